/*
 * The rewarder: it consumes signed settlement records from the at-least-once mailbox,
 * verifies each record's proof and pays out at most once per record. The payout and a
 * durable settled[record] marker are written in ONE database transaction, so a record that
 * comes back (a lost ACK, a worker crash, a lease that ran out under a slow worker) finds the
 * marker and is only acked. An invalid proof is NACKed each time until the mailbox
 * dead-letters it. Checked by scripts/check-models.ts; the TLA+ twin is
 * specs/tla/rewarder.tla.
 *
 * Bounds: NREC records, NWORK workers, MAXD = mailbox.max_attempts. Faults (a worker crash
 * at any step, or a lease running out under a live worker) are budgeted to MAXFAULT < MAXD
 * in total: the mailbox then never dead-letters a valid record, so the liveness property
 * holds; with unbounded faults no consumer can promise progress.
 *
 * Planted bug (scripts/check-models.ts expects paid_at_most_once to fail):
 *   BUG_MARKER_AFTER_PAYOUT  the payout and the marker are two transactions; a crash (or a
 *                            second worker) between them pays again.
 */

#define NREC 2
#ifndef NWORK
#define NWORK 2
#endif
#ifndef MAXD
#define MAXD 3
#endif
#ifndef MAXFAULT
#define MAXFAULT 2
#endif

/* A record's proof: UNKNOWN until the record is published. */
#define UNKNOWN 0
#define VALID   1
#define INVALID 2

/* The record's message in the mailbox (as in mailbox.pml). */
#define READY   1
#define LEASED  2
#define EXPIRED 3
#define ACKED   4
#define DLQ     5

byte proof[NREC];
byte st[NREC];
byte attempt[NREC];  /* deliveries so far; the receipt of a delivery is its number */
byte paid[NREC];     /* payouts made for the record (saturates at 2) */
bool settled[NREC];  /* the durable marker */
byte faults;

#define live(r, d) (st[r] == LEASED && attempt[r] == d)

/* Signed records arrive with a valid or an invalid proof. */
active proctype publisher() {
  atomic {
    if
    :: proof[0] = VALID
    :: proof[0] = INVALID
    fi;
    if
    :: proof[1] = VALID
    :: proof[1] = INVALID
    fi;
    st[0] = READY;
    st[1] = READY
  }
}

/* A lease runs out under a worker that is still busy with it: a fault. */
active proctype timer() {
end:
  do
  :: atomic { st[0] == LEASED && faults < MAXFAULT -> st[0] = EXPIRED; faults++ }
  :: atomic { st[1] == LEASED && faults < MAXFAULT -> st[1] = EXPIRED; faults++ }
  od
}

/* A crash: the worker forgets its delivery; its lease runs out and the record comes back. */
#define CRASH \
  :: atomic { faults < MAXFAULT -> faults++; if :: live(r, d) -> st[r] = EXPIRED :: else -> skip fi }; \
     goto next

inline pay(r) {
  if
  :: paid[r] < 2 -> paid[r]++
  :: else -> skip
  fi
}

active [NWORK] proctype worker() {
  byte r, d;
  bool owe_marker;
end:
  do
  :: atomic {
      /* RECV: sweep the leases that ran out, then lease the oldest ready record. */
      (st[0] == READY || st[0] == EXPIRED || st[1] == READY || st[1] == EXPIRED) ->
      r = 0;
      do
      :: r < NREC ->
        if
        :: st[r] == EXPIRED && attempt[r] >= MAXD -> st[r] = DLQ
        :: st[r] == EXPIRED && attempt[r] < MAXD -> st[r] = READY
        :: else -> skip
        fi;
        r++
      :: r >= NREC -> break
      od;
      r = 0;
      do
      :: r < NREC && st[r] != READY -> r++
      :: r < NREC && st[r] == READY -> break
      :: r >= NREC -> break
      od;
      if
      :: r < NREC -> st[r] = LEASED; attempt[r]++; d = attempt[r]
      :: else -> skip
      fi
    };
    if
    :: r >= NREC -> goto next
    :: else -> skip
    fi;
    if
    CRASH
    :: skip
    fi;
    if
    :: proof[r] == INVALID ->
      /* NACK "invalid proof": after MAXD deliveries the mailbox dead-letters it. */
      atomic {
        if
        :: live(r, d) && attempt[r] >= MAXD -> st[r] = DLQ
        :: live(r, d) && attempt[r] < MAXD -> st[r] = READY
        :: else -> skip /* 410 stale */
        fi
      }
    :: else ->
#ifdef BUG_MARKER_AFTER_PAYOUT
      atomic {
        if
        :: !settled[r] -> pay(r); owe_marker = true
        :: else -> skip
        fi
      };
      if
      CRASH
      :: skip
      fi;
      atomic {
        if
        :: owe_marker -> settled[r] = true; owe_marker = false
        :: else -> skip
        fi
      };
#else
      /* One transaction: INSERT the marker (the record's primary key) and the payout, or
       * nothing when the marker is there. */
      atomic {
        if
        :: !settled[r] -> pay(r); settled[r] = true
        :: else -> skip
        fi
      };
#endif
      if
      CRASH
      :: skip
      fi;
      atomic {
        if
        :: live(r, d) -> st[r] = ACKED
        :: else -> skip /* 410 stale: the record was redelivered and is settled anyway */
        fi
      }
    fi;
next:
    atomic { r = 0; d = 0; owe_marker = false }
  od
}

#define outcome(r) (proof[r] == INVALID || (proof[r] == VALID && paid[r] >= 1))

ltl paid_at_most_once { [] (paid[0] <= 1 && paid[1] <= 1) }
ltl invalid_never_paid { [] ((proof[0] != INVALID || paid[0] == 0) && (proof[1] != INVALID || paid[1] == 0)) }
/* Needs weak fairness (pan -f): every valid record is eventually paid. */
ltl valid_paid { <> (outcome(0) && outcome(1)) }
