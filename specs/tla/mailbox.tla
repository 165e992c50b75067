------------------------------ MODULE mailbox ------------------------------
(***************************************************************************)
(* The Omnigate mailbox (docs/mailbox.md): at-least-once delivery of one   *)
(* topic with leases, receipts, ACK/NACK, dead letters and idempotent      *)
(* SEND. The twin of specs/models/mailbox.pml, which spin checks           *)
(* exhaustively; TLC cannot be installed here, so this file is only        *)
(* syntax-checked (scripts/check-tla.ts). docs/model-checking.md.          *)
(*                                                                         *)
(* A receipt names one delivery: the message and its delivery number. It  *)
(* is live while the message is leased under that number; once the lease  *)
(* has run out ("expired", even before a RECV sweeps it) or the message    *)
(* was delivered again, ACK and NACK with it are refused (410 stale).      *)
(* Left out: EXTEND (a lease may run out at any moment anyway), DELETE and *)
(* the DLQ redrive and purge (operator actions).                           *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets

CONSTANTS
    Keys,       \* idempotency keys the producer sends
    NSlots,     \* messages a tenant may store (its depth limit)
    Consumers,
    MaxD        \* mailbox.max_attempts

ASSUME NSlots \in Nat \ {0} /\ MaxD \in Nat \ {0}

Slots == 1..NSlots
NoSlot == 0
NoKey == CHOOSE x : x \notin Keys
States == {"free", "ready", "leased", "expired", "delayed", "acked", "dlq"}
Terminal == {"acked", "dlq"}

VARIABLES
    st,         \* st[m]: where message slot m is
    attempt,    \* attempt[m]: deliveries of m so far (the receipt's number)
    keyOf,      \* keyOf[m]: the idempotency key m was sent with
    copies,     \* copies[k]: messages stored for key k (a ghost for Dedupe)
    sent,       \* sent[k]: SENDs of key k, the second one a retry after a lost reply
    processed,  \* processed[m]: times a handler ran on m (a ghost)
    pc,         \* pc[c]: "idle", "handle" (got a delivery) or "settle" (handled it)
    held,       \* held[c]: the slot of c's delivery, NoSlot when idle
    receipt     \* receipt[c]: the delivery number of c's receipt

vars == <<st, attempt, keyOf, copies, sent, processed, pc, held, receipt>>

TypeOK ==
    /\ st \in [Slots -> States]
    /\ attempt \in [Slots -> 0..MaxD]
    /\ keyOf \in [Slots -> Keys \cup {NoKey}]
    /\ copies \in [Keys -> 0..2]
    /\ sent \in [Keys -> 0..2]
    /\ processed \in [Slots -> Nat]
    /\ pc \in [Consumers -> {"idle", "handle", "settle"}]
    /\ held \in [Consumers -> Slots \cup {NoSlot}]
    /\ receipt \in [Consumers -> 0..MaxD]

Init ==
    /\ st = [m \in Slots |-> "free"]
    /\ attempt = [m \in Slots |-> 0]
    /\ keyOf = [m \in Slots |-> NoKey]
    /\ copies = [k \in Keys |-> 0]
    /\ sent = [k \in Keys |-> 0]
    /\ processed = [m \in Slots |-> 0]
    /\ pc = [c \in Consumers |-> "idle"]
    /\ held = [c \in Consumers |-> NoSlot]
    /\ receipt = [c \in Consumers |-> 0]

Live(m, r) == st[m] = "leased" /\ attempt[m] = r

Oldest(S) == CHOOSE m \in S : \A n \in S : m <= n

(* SEND: a known key answers the first msg_id and stores nothing; a full   *)
(* tenant is refused (429 quota).                                          *)
Send(k) ==
    /\ sent[k] < 2
    /\ sent' = [sent EXCEPT ![k] = @ + 1]
    /\ LET free == {m \in Slots : st[m] = "free"}
       IN  IF (\E m \in Slots : st[m] # "free" /\ keyOf[m] = k) \/ free = {}
           THEN UNCHANGED <<st, keyOf, copies>>
           ELSE LET m == Oldest(free)
                IN  /\ st' = [st EXCEPT ![m] = "ready"]
                    /\ keyOf' = [keyOf EXCEPT ![m] = k]
                    /\ copies' = [copies EXCEPT ![k] = @ + 1]
    /\ UNCHANGED <<attempt, processed, pc, held, receipt>>

FirstSend(k) == sent[k] = 0 /\ Send(k)

(* Time passes: a lease runs out, a NACK delay ends.                       *)
Expire(m) ==
    /\ st[m] = "leased"
    /\ st' = [st EXCEPT ![m] = "expired"]
    /\ UNCHANGED <<attempt, keyOf, copies, sent, processed, pc, held, receipt>>

DelayEnds(m) ==
    /\ st[m] = "delayed"
    /\ st' = [st EXCEPT ![m] = "ready"]
    /\ UNCHANGED <<attempt, keyOf, copies, sent, processed, pc, held, receipt>>

(* Leases that ran out: the last attempt is dead, the rest ready again.    *)
Swept == [m \in Slots |->
            IF st[m] = "expired"
            THEN IF attempt[m] >= MaxD THEN "dlq" ELSE "ready"
            ELSE st[m]]

(* RECV sweeps, then leases the oldest ready message.                     *)
Recv(c) ==
    /\ pc[c] = "idle"
    /\ \E m \in Slots : st[m] \in {"ready", "expired"}
    /\ LET ready == {m \in Slots : Swept[m] = "ready"}
       IN  IF ready = {}
           THEN /\ st' = Swept
                /\ UNCHANGED <<attempt, pc, held, receipt>>
           ELSE LET m == Oldest(ready)
                IN  /\ st' = [Swept EXCEPT ![m] = "leased"]
                    /\ attempt' = [attempt EXCEPT ![m] = @ + 1]
                    /\ pc' = [pc EXCEPT ![c] = "handle"]
                    /\ held' = [held EXCEPT ![c] = m]
                    /\ receipt' = [receipt EXCEPT ![c] = attempt[m] + 1]
    /\ UNCHANGED <<keyOf, copies, sent, processed>>

Handle(c) ==
    /\ pc[c] = "handle"
    /\ processed' = [processed EXCEPT ![held[c]] = @ + 1]
    /\ pc' = [pc EXCEPT ![c] = "settle"]
    /\ UNCHANGED <<st, attempt, keyOf, copies, sent, held, receipt>>

Release(c) ==
    /\ pc' = [pc EXCEPT ![c] = "idle"]
    /\ held' = [held EXCEPT ![c] = NoSlot]
    /\ receipt' = [receipt EXCEPT ![c] = 0]

Ack(c) ==
    /\ pc[c] = "settle"
    /\ IF Live(held[c], receipt[c])
       THEN st' = [st EXCEPT ![held[c]] = "acked"]
       ELSE UNCHANGED st    \* 410 stale
    /\ Release(c)
    /\ UNCHANGED <<attempt, keyOf, copies, sent, processed>>

(* NACK ends the lease now; the last attempt goes to the DLQ.              *)
Nack(c, delayed) ==
    /\ pc[c] = "settle"
    /\ LET m == held[c]
       IN  IF Live(m, receipt[c])
           THEN st' = [st EXCEPT ![m] =
                         IF attempt[m] >= MaxD THEN "dlq"
                         ELSE IF delayed THEN "delayed" ELSE "ready"]
           ELSE UNCHANGED st    \* 410 stale
    /\ Release(c)
    /\ UNCHANGED <<attempt, keyOf, copies, sent, processed>>

(* The consumer dies with or without having handled its delivery; the     *)
(* lease runs out later.                                                   *)
Crash(c) ==
    /\ pc[c] \in {"handle", "settle"}
    /\ Release(c)
    /\ UNCHANGED <<st, attempt, keyOf, copies, sent, processed>>

Producer == \E k \in Keys : Send(k)
Timer == \E m \in Slots : Expire(m) \/ DelayEnds(m)
Consumer(c) ==
    \/ Recv(c)
    \/ Handle(c)
    \/ Ack(c)
    \/ \E delayed \in BOOLEAN : Nack(c, delayed)
    \/ Crash(c)

Next == Producer \/ Timer \/ \E c \in Consumers : Consumer(c)

(* Weak fairness per process, as spin's pan -f: the producer sends every  *)
(* key, time passes, and a consumer that can act eventually does.          *)
Fairness ==
    /\ \A k \in Keys : WF_vars(FirstSend(k))
    /\ WF_vars(Timer)
    /\ \A c \in Consumers : WF_vars(Consumer(c))

Spec == Init /\ [][Next]_vars /\ Fairness

-----------------------------------------------------------------------------
(* Safety.                                                                 *)

Bounded == \A m \in Slots : attempt[m] <= MaxD

DlqAfterMax == \A m \in Slots : st[m] = "dlq" => attempt[m] = MaxD

Dedupe == \A k \in Keys : copies[k] <= 1

(* ACKED and DLQ are never left.                                           *)
Absorbing == [][\A m \in Slots : st[m] \in Terminal => st'[m] = st[m]]_vars

(* A consumer's ACK or NACK changes its message only through the receipt  *)
(* of a live lease: a stale receipt never settles a redelivered message.   *)
(* (One consumer acts per step; the one leaving "settle" is the actor.)    *)
StaleRefused ==
    [][\A c \in Consumers :
          (pc[c] = "settle" /\ pc'[c] = "idle" /\ st'[held[c]] # st[held[c]])
          => Live(held[c], receipt[c])]_vars

(* Liveness: every message sent ends ACKED or DLQ.                         *)
Settles ==
    <>[](/\ \A k \in Keys : sent[k] >= 1
         /\ \A m \in Slots : st[m] \in Terminal \cup {"free"})

(* NOT a property of this system, and on purpose: at-least-once lets a     *)
(* handler run twice on one message (spin finds the run). Consumers must   *)
(* be idempotent, as the rewarder is.                                      *)
ProcessedAtMostOnce == \A m \in Slots : processed[m] <= 1

THEOREM Spec => [](TypeOK /\ Bounded /\ DlqAfterMax /\ Dedupe)
THEOREM Spec => Absorbing /\ StaleRefused
THEOREM Spec => Settles
=============================================================================
