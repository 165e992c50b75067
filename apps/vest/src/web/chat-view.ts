import type { ChatMessage } from "./chat-types.js";
import { byId, el } from "./dom.js";

const STATE_MARK: Record<ChatMessage["state"], string> = {
  sending: "sending…",
  sent: "✓ sent",
  delivered: "✓✓ delivered",
  failed: "not sent",
  received: "",
};

/** The chat pane: messages of the open room, members, and the composer. */
export class ChatView {
  private readonly list = byId<HTMLOListElement>("messages");
  private readonly members = byId("members");
  private readonly roomTitle = byId("room-title");
  private readonly notices = byId("notices");

  constructor(
    private readonly me: string,
    onSend: (text: string) => void,
  ) {
    const form = byId<HTMLFormElement>("composer");
    const input = byId<HTMLInputElement>("composer-text");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      onSend(text);
    });
  }

  /** The room's name and members; hovering a member shows the safety number to compare. */
  showRoom(room: string, members: string[], safetyNumbers = new Map<string, string>()): void {
    this.roomTitle.textContent = `# ${room}`;
    this.members.replaceChildren(
      ...members.map((name) => {
        const item = el("li", name === this.me ? "member me" : "member", name);
        const safety = safetyNumbers.get(name);
        if (safety)
          item.title = `Safety number with ${name}: ${safety}\nCompare it with theirs to rule out anyone in between.`;
        return item;
      }),
    );
  }

  render(messages: ChatMessage[]): void {
    const atBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
    this.list.replaceChildren(...messages.map((m) => this.item(m)));
    if (atBottom) this.list.scrollTop = this.list.scrollHeight;
  }

  /** Off while a room opens: nothing typed can go before the room's rails exist. */
  setComposerEnabled(enabled: boolean): void {
    for (const id of ["composer-text", "composer-send"]) byId<HTMLInputElement>(id).disabled = !enabled;
  }

  notice(text: string): void {
    const item = el("li", "notice", text);
    this.notices.append(item);
    setTimeout(() => item.remove(), 8_000);
  }

  private item(message: ChatMessage): HTMLLIElement {
    const mine = message.from === this.me;
    const item = el("li", mine ? "msg mine" : "msg");
    item.dataset.id = message.id;
    item.dataset.from = message.from;
    item.dataset.state = message.state;
    const head = el("div", "msg-head");
    head.append(
      el("span", "msg-from", mine ? "you" : message.from),
      el(
        "time",
        "msg-time",
        new Date(message.sentAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }),
      ),
    );
    const body = el("div", "msg-text", message.text);
    item.append(head, body);
    if (mine) item.append(el("div", "msg-state", STATE_MARK[message.state]));
    return item;
  }
}
