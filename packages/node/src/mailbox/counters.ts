/** What engines report for the mailbox counters (metrics have no topic label). */
export type MailboxEvent = "enqueued" | "delivered" | "redelivered" | "acked" | "dlq";
export type MailboxCounter = (event: MailboxEvent, n: number) => void;
