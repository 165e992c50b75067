------------------------------ MODULE rewarder -----------------------------
(***************************************************************************)
(* The rewarder: workers consume signed settlement records from the        *)
(* at-least-once mailbox, verify each record's proof, and pay out at most  *)
(* once per record. The payout and the durable settled[r] marker are       *)
(* written in ONE transaction; a record that comes back finds the marker   *)
(* and is only acked. An invalid proof is NACKed until the mailbox         *)
(* dead-letters it. The twin of specs/models/rewarder.pml, which spin      *)
(* checks exhaustively; TLC cannot be installed here, so this file is only *)
(* syntax-checked (scripts/check-tla.ts). docs/model-checking.md.          *)
(*                                                                         *)
(* Faults (a worker crash, a lease running out under a live worker) are    *)
(* budgeted to MaxFault < MaxD in total, so the mailbox never dead-letters *)
(* a valid record and the liveness property can hold.                      *)
(***************************************************************************)
EXTENDS Naturals

CONSTANTS
    Records,
    Workers,
    MaxD,       \* mailbox.max_attempts
    MaxFault    \* crashes and lease expiries under a live worker, in total

ASSUME MaxD \in Nat \ {0} /\ MaxFault \in Nat /\ MaxFault < MaxD

NoRecord == CHOOSE x : x \notin Records
States == {"ready", "leased", "expired", "acked", "dlq"}

VARIABLES
    proof,      \* proof[r]: "valid" or "invalid", fixed by the record's signer
    st,         \* st[r]: the record's message in the mailbox
    attempt,    \* attempt[r]: deliveries so far (the receipt's number)
    paid,       \* paid[r]: payouts made for r
    settled,    \* settled[r]: the durable marker
    faults,
    pc,         \* pc[w]: "idle", "verify" (holds a delivery) or "ack" (paid or skipped)
    held,       \* held[w]: the record w holds, NoRecord when idle
    receipt     \* receipt[w]: the delivery number of w's receipt

vars == <<proof, st, attempt, paid, settled, faults, pc, held, receipt>>

TypeOK ==
    /\ proof \in [Records -> {"valid", "invalid"}]
    /\ st \in [Records -> States]
    /\ attempt \in [Records -> 0..MaxD]
    /\ paid \in [Records -> Nat]
    /\ settled \in [Records -> BOOLEAN]
    /\ faults \in 0..MaxFault
    /\ pc \in [Workers -> {"idle", "verify", "ack"}]
    /\ held \in [Workers -> Records \cup {NoRecord}]
    /\ receipt \in [Workers -> 0..MaxD]

Init ==
    /\ proof \in [Records -> {"valid", "invalid"}]
    /\ st = [r \in Records |-> "ready"]
    /\ attempt = [r \in Records |-> 0]
    /\ paid = [r \in Records |-> 0]
    /\ settled = [r \in Records |-> FALSE]
    /\ faults = 0
    /\ pc = [w \in Workers |-> "idle"]
    /\ held = [w \in Workers |-> NoRecord]
    /\ receipt = [w \in Workers |-> 0]

Live(r, d) == st[r] = "leased" /\ attempt[r] = d

Swept == [r \in Records |->
            IF st[r] = "expired"
            THEN IF attempt[r] >= MaxD THEN "dlq" ELSE "ready"
            ELSE st[r]]

(* RECV: sweep the leases that ran out, lease a ready record.              *)
Recv(w) ==
    /\ pc[w] = "idle"
    /\ \E r \in Records : st[r] \in {"ready", "expired"}
    /\ IF \E r \in Records : Swept[r] = "ready"
       THEN \E r \in Records :
               /\ Swept[r] = "ready"
               /\ st' = [Swept EXCEPT ![r] = "leased"]
               /\ attempt' = [attempt EXCEPT ![r] = @ + 1]
               /\ pc' = [pc EXCEPT ![w] = "verify"]
               /\ held' = [held EXCEPT ![w] = r]
               /\ receipt' = [receipt EXCEPT ![w] = attempt[r] + 1]
       ELSE /\ st' = Swept
            /\ UNCHANGED <<attempt, pc, held, receipt>>
    /\ UNCHANGED <<proof, paid, settled, faults>>

Release(w) ==
    /\ pc' = [pc EXCEPT ![w] = "idle"]
    /\ held' = [held EXCEPT ![w] = NoRecord]
    /\ receipt' = [receipt EXCEPT ![w] = 0]

(* An invalid proof: NACK "invalid proof"; the last attempt is dead.       *)
Reject(w) ==
    /\ pc[w] = "verify"
    /\ proof[held[w]] = "invalid"
    /\ LET r == held[w]
       IN  IF Live(r, receipt[w])
           THEN st' = [st EXCEPT ![r] = IF attempt[r] >= MaxD THEN "dlq" ELSE "ready"]
           ELSE UNCHANGED st    \* 410 stale
    /\ Release(w)
    /\ UNCHANGED <<proof, attempt, paid, settled, faults>>

(* A valid proof: ONE transaction inserts the marker and the payout, or    *)
(* does nothing when the marker is there already.                          *)
Pay(w) ==
    /\ pc[w] = "verify"
    /\ proof[held[w]] = "valid"
    /\ LET r == held[w]
       IN  IF settled[r]
           THEN UNCHANGED <<paid, settled>>
           ELSE /\ paid' = [paid EXCEPT ![r] = @ + 1]
                /\ settled' = [settled EXCEPT ![r] = TRUE]
    /\ pc' = [pc EXCEPT ![w] = "ack"]
    /\ UNCHANGED <<proof, st, attempt, faults, held, receipt>>

Ack(w) ==
    /\ pc[w] = "ack"
    /\ IF Live(held[w], receipt[w])
       THEN st' = [st EXCEPT ![held[w]] = "acked"]
       ELSE UNCHANGED st    \* 410 stale: redelivered, and settled anyway
    /\ Release(w)
    /\ UNCHANGED <<proof, attempt, paid, settled, faults>>

(* A crash at any step: the delivery is forgotten, its lease runs out.     *)
Crash(w) ==
    /\ pc[w] \in {"verify", "ack"}
    /\ faults < MaxFault
    /\ faults' = faults + 1
    /\ IF Live(held[w], receipt[w])
       THEN st' = [st EXCEPT ![held[w]] = "expired"]
       ELSE UNCHANGED st
    /\ Release(w)
    /\ UNCHANGED <<proof, attempt, paid, settled>>

(* A lease runs out under a worker that is still busy with it.             *)
SlowWorker(r) ==
    /\ st[r] = "leased"
    /\ faults < MaxFault
    /\ faults' = faults + 1
    /\ st' = [st EXCEPT ![r] = "expired"]
    /\ UNCHANGED <<proof, attempt, paid, settled, pc, held, receipt>>

Worker(w) == Recv(w) \/ Reject(w) \/ Pay(w) \/ Ack(w) \/ Crash(w)
Timer == \E r \in Records : SlowWorker(r)

Next == Timer \/ \E w \in Workers : Worker(w)

Spec == Init /\ [][Next]_vars /\ \A w \in Workers : WF_vars(Worker(w))

-----------------------------------------------------------------------------
PaidAtMostOnce == \A r \in Records : paid[r] <= 1

InvalidNeverPaid == \A r \in Records : proof[r] = "invalid" => paid[r] = 0

(* The marker and the payout are one write: neither exists without the    *)
(* other.                                                                  *)
MarkerIsPayout == \A r \in Records : settled[r] <=> paid[r] >= 1

(* Liveness: every valid record is eventually paid.                        *)
ValidPaid == \A r \in Records : proof[r] = "valid" ~> paid[r] >= 1

THEOREM Spec => [](TypeOK /\ PaidAtMostOnce /\ InvalidNeverPaid /\ MarkerIsPayout)
THEOREM Spec => ValidPaid
=============================================================================
