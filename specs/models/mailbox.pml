/*
 * The Omnigate mailbox (docs/mailbox.md, packages/node/src/mailbox/sqlite-engine.ts) as a
 * Promela model: at-least-once delivery with leases, receipts, ACK/NACK, dead letters and
 * idempotent SEND. One topic of one tenant. Checked by scripts/check-models.ts; the TLA+
 * twin is specs/tla/mailbox.tla.
 *
 * Bounds (small on purpose: the whole state space is explored):
 *   NKEYS idempotency keys, each sent once or twice (a SEND retried after a lost reply);
 *   NSLOTS stored messages at most (the tenant's depth limit, 429 quota beyond it);
 *   NCONS consumers; MAXD = mailbox.max_attempts.
 * Left out: EXTEND (in a model where a lease may expire at any moment it changes nothing),
 * DELETE and DLQ.REDRIVE/PURGE (operator actions that take a message out of, or back out
 * of, the DLQ; the absorbing properties below hold without them).
 *
 * Planted bugs, one -D macro each (scripts/check-models.ts expects the named property to fail):
 *   BUG_STALE_ACK  ack accepts a receipt of an earlier delivery or an expired lease -> stale_refused
 *   BUG_NO_DLQ     the last delivery's NACK/expiry makes it ready again -> bounded
 *   BUG_NO_DEDUPE  SEND ignores the idempotency key -> dedupe
 */

/* The properties and the timer name the slots one by one: 0, 1, 2. */
#define NKEYS 3
#define NSLOTS 3
#ifndef NCONS
#define NCONS 2
#endif
#ifndef MAXD
#define MAXD 2
#endif

/* Message states. EXPIRED: the lease's time has passed (its receipt is already stale) but no
 * RECV has swept it yet; the engine's index still says LEASED until then. */
#define FREE    0
#define READY   1
#define LEASED  2
#define EXPIRED 3
#define DELAYED 4
#define ACKED   5
#define DLQ     6

byte st[NSLOTS];        /* FREE until a SEND stores the slot */
byte attempt[NSLOTS];   /* deliveries so far; a receipt is (slot, attempt) like `<msg_id>.<n>` */
byte key_of[NSLOTS];    /* the slot's idempotency key */
byte copies[NKEYS];     /* ghost: messages stored for each key */
byte processed[NSLOTS]; /* ghost: times a consumer's handler ran on the message */
bool stale_taken;       /* ghost: an ACK took effect with a receipt that was not live */
bool sent_all;          /* the producer is finished */

/* The engine's liveLease(): the receipt names the current delivery and its time is not up. */
#define live(m, r) (st[m] == LEASED && attempt[m] == r)

#ifdef BUG_STALE_ACK
#define ack_accepts(m, r) (st[m] == LEASED || st[m] == EXPIRED)
#else
#define ack_accepts(m, r) live(m, r)
#endif

/* SEND: a known key answers the first msg_id (duplicate: true) and stores nothing. */
inline send(k) {
  atomic {
    j = 0;
    found = false;
#ifndef BUG_NO_DEDUPE
    do
    :: j < NSLOTS && st[j] != FREE && key_of[j] == k -> found = true; break
    :: j < NSLOTS && !(st[j] != FREE && key_of[j] == k) -> j++
    :: j >= NSLOTS -> break
    od;
    j = 0;
#endif
    if
    :: found -> skip
    :: else ->
      do
      :: j < NSLOTS && st[j] == FREE ->
        st[j] = READY; key_of[j] = k; copies[k]++; break
      :: j < NSLOTS && st[j] != FREE -> j++
      :: j >= NSLOTS -> break /* 429 quota: the depth limit is reached */
      od
    fi
  }
}

active proctype producer() {
  byte k = 0, j;
  bool found;
  do
  :: k < NKEYS ->
    send(k);
    if
    :: send(k) /* the reply was lost: the client retries with the same key */
    :: skip
    fi;
    k++
  :: k >= NKEYS -> sent_all = true; break
  od
}

/* Leases run out at any moment (a slow consumer), NACK delays end at any moment. One option
 * per slot, so the guard is the whole choice (a select() inside atomic could block there). */
#define expire(m) :: atomic { st[m] == LEASED -> st[m] = EXPIRED } \
                  :: atomic { st[m] == DELAYED -> st[m] = READY }

active proctype timer() {
end:
  do
  expire(0)
  expire(1)
  expire(2)
  od
}

/* A dead letter or, one attempt short of it, a message visible again. */
#ifdef BUG_NO_DLQ
#define settle_last(m) st[m] = READY
#else
#define settle_last(m) st[m] = DLQ
#endif

active [NCONS] proctype consumer() {
  byte m, r, j;
end:
  do
  :: atomic {
      /* RECV: sweep the leases that ran out (the last attempt is dead, the rest ready in
       * their place), then lease the oldest ready message. Blocks while nothing is there
       * (a long poll). */
      (st[0] == READY || st[0] == EXPIRED || st[1] == READY || st[1] == EXPIRED
       || st[2] == READY || st[2] == EXPIRED) ->
      j = 0;
      do
      :: j < NSLOTS ->
        if
        :: st[j] == EXPIRED && attempt[j] >= MAXD -> settle_last(j)
        :: st[j] == EXPIRED && attempt[j] < MAXD -> st[j] = READY
        :: else -> skip
        fi;
        j++
      :: j >= NSLOTS -> break
      od;
      m = 0;
      do
      :: m < NSLOTS && st[m] != READY -> m++
      :: m < NSLOTS && st[m] == READY -> break
      :: m >= NSLOTS -> break
      od;
      if
      :: m < NSLOTS ->
        st[m] = LEASED;
        if
        :: attempt[m] <= MAXD -> attempt[m]++ /* saturates: only BUG_NO_DLQ passes MAXD */
        :: else -> skip
        fi;
        r = attempt[m]
      :: else -> skip
      fi
    };
    if
    :: m < NSLOTS ->
      /* The handler runs, then the consumer settles the delivery or dies. Between any two
       * steps the lease may run out and another consumer may get the message. */
      if /* saturates at 3: enough to see a second run, and the state space stays finite */
      :: processed[m] < 3 -> processed[m]++
      :: else -> skip
      fi;
      if
      :: atomic { true; /* ACK */
          if
          :: ack_accepts(m, r) -> stale_taken = stale_taken || !live(m, r); st[m] = ACKED
          :: else -> skip /* 410 stale */
          fi
        }
      :: atomic { true; /* NACK, with or without a delay */
          if
          :: live(m, r) && attempt[m] >= MAXD -> settle_last(m)
          :: live(m, r) && attempt[m] < MAXD -> st[m] = READY
          :: live(m, r) && attempt[m] < MAXD -> st[m] = DELAYED
          :: else -> skip /* 410 stale */
          fi
        }
      :: skip /* the consumer crashed: the lease runs out */
      fi;
      m = 0; r = 0
    :: else -> skip
    fi
  od
}

/* Properties. p -> [] p is "absorbing". */
#define terminal(m) (st[m] == ACKED || st[m] == DLQ)
#define settled(m) (st[m] == FREE || terminal(m))

ltl bounded { [] (attempt[0] <= MAXD && attempt[1] <= MAXD && attempt[2] <= MAXD) }
ltl dlq_after_max { [] ((st[0] != DLQ || attempt[0] == MAXD) && (st[1] != DLQ || attempt[1] == MAXD)
                        && (st[2] != DLQ || attempt[2] == MAXD)) }
ltl absorbing { [] ((st[0] == ACKED -> [] (st[0] == ACKED)) && (st[0] == DLQ -> [] (st[0] == DLQ))
                    && (st[1] == ACKED -> [] (st[1] == ACKED)) && (st[1] == DLQ -> [] (st[1] == DLQ))
                    && (st[2] == ACKED -> [] (st[2] == ACKED))
                    && (st[2] == DLQ -> [] (st[2] == DLQ))) }
ltl stale_refused { [] !stale_taken }
ltl dedupe { [] (copies[0] <= 1 && copies[1] <= 1 && copies[2] <= 1) }
/* Needs weak fairness (pan -f): every message sent ends ACKED or DLQ. */
ltl settles { <> (sent_all && settled(0) && settled(1) && settled(2)) }
/* NEGATIVE, expected to FAIL: at-least-once means a handler may run twice on one message. */
ltl processed_at_most_once { [] (processed[0] <= 1 && processed[1] <= 1 && processed[2] <= 1) }
