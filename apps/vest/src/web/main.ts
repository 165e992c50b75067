/**
 * The Vest page: sign in by name, then a map read from the archive over OAP and an
 * end-to-end-encrypted chat over the mailbox, both straight from this page to the node.
 */
import { MAX_STORM_SECONDS, VEST_APP_ID } from "../shared/protocol.js";
import { ChatKeys } from "./chat-keys.js";
import { ChatStore } from "./chat-store.js";
import { ChatView } from "./chat-view.js";
import { byId, el } from "./dom.js";
import { LatencyStats } from "./latency-stats.js";
import { createMapView, type MapView } from "./map-view.js";
import { loadPageConfig } from "./page-config.js";
import { RoomChat } from "./room-chat.js";
import { StatusView } from "./status-view.js";
import { VestConnection } from "./vest-connection.js";

const LAST_USER_KEY = "vest/last-user";

/** What tests (and a curious developer in the console) can read: `window.vest`. */
interface VestDebug {
  user?: string;
  room?: string;
  map?: MapView;
  sends: LatencyStats;
  chat?: RoomChat;
  /** Busy episodes per rail (StatusView.log). */
  busyLog?: StatusView["log"];
  ready: boolean;
  error?: string;
}

const debug: VestDebug = { sends: new LatencyStats(), ready: false };
(globalThis as { vest?: VestDebug }).vest = debug;

async function main(): Promise<void> {
  const config = await loadPageConfig();
  const params = new URLSearchParams(location.search);
  const name = params.get("user") ?? localStorage.getItem(LAST_USER_KEY);
  if (name) await enter(config, name, params.get("room") ?? undefined);
  else showSignin(config);
}

function showSignin(config: Awaited<ReturnType<typeof loadPageConfig>>): void {
  const form = byId<HTMLFormElement>("signin");
  const input = byId<HTMLInputElement>("signin-name");
  const error = byId("signin-error");
  document.body.dataset.view = "signin";
  input.focus();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    error.textContent = "";
    const name = input.value.trim().toLowerCase();
    enter(config, name).catch((err: unknown) => {
      document.body.dataset.view = "signin";
      error.textContent = (err as Error).message;
    });
  });
}

async function enter(
  config: Awaited<ReturnType<typeof loadPageConfig>>,
  name: string,
  roomParam?: string,
): Promise<void> {
  document.body.dataset.view = "loading";
  await holdUserLock(name);
  const conn = await VestConnection.signIn(config, name);
  localStorage.setItem(LAST_USER_KEY, conn.user);
  debug.user = conn.user;
  document.body.dataset.view = "app";
  byId("user-name").textContent = conn.user;

  const map = createMapView(byId("map"), conn.storage, conn.signin.archive.addr);
  debug.map = map;
  const status = new StatusView(map.reads, debug.sends);
  debug.busyLog = status.log;
  status.watch(map.gate);
  status.watch(conn.appGate);
  status.watch(conn.storageGate);
  for (const client of [conn.app, conn.storage]) status.watchClient(client);

  const store = new ChatStore(conn.user);
  const keys = new ChatKeys(conn, store);
  let chat: RoomChat | undefined;
  keys.onIdentityChange = (user) =>
    view.notice(`${user}'s safety number changed (new browser, or someone in between): compare it again`);
  const view = new ChatView(conn.user, (text) => {
    const started = performance.now();
    chat?.send(text).then((m) => {
      if (m.state !== "failed") debug.sends.add(performance.now() - started);
    });
  });

  const openRoom = async (room: string): Promise<void> => {
    await chat?.close();
    const next = new RoomChat(room, conn, keys, store, {
      changed: (changedRoom) => {
        if (changedRoom !== next.room) return;
        view.showRoom(next.room, next.memberNames, next.safetyNumbers());
        view.render(next.messages());
      },
      notice: (text) => view.notice(text),
    });
    chat = next;
    debug.chat = next;
    debug.room = room;
    status.watch(next.sendGate);
    status.watch(next.inboxGate);
    view.showRoom(room, []);
    view.render(next.messages());
    renderRooms(conn.signin.rooms, room, (r) => void openRoom(r));
    view.setComposerEnabled(false);
    await next.open();
    view.setComposerEnabled(true);
    view.showRoom(room, next.memberNames, next.safetyNumbers());
  };

  byId<HTMLButtonElement>("storm").addEventListener("click", async (event) => {
    const button = event.currentTarget as HTMLButtonElement;
    button.disabled = true;
    try {
      await conn.app.request(VEST_APP_ID, {
        meta: { op: "storm", session: conn.signin.session, seconds: MAX_STORM_SECONDS },
      });
      view.notice(
        `storm started for ${MAX_STORM_SECONDS} s: the node refuses what is over quota, the page retries`,
      );
    } catch (err) {
      view.notice(`storm refused: ${(err as Error).message}`);
    } finally {
      setTimeout(() => {
        button.disabled = false;
      }, MAX_STORM_SECONDS * 1000);
    }
  });
  byId<HTMLButtonElement>("signout").addEventListener("click", () => {
    localStorage.removeItem(LAST_USER_KEY);
    location.search = "";
  });

  const initial =
    roomParam && conn.signin.rooms.includes(roomParam) ? roomParam : (conn.signin.rooms[0] ?? "lobby");
  await openRoom(initial);
  debug.ready = true;
  document.body.dataset.ready = "true";
}

/**
 * One page per user in this browser: two tabs of one user would overwrite each other's
 * ratchet state in localStorage. The lock is held for the page's life (a reload frees it).
 */
function holdUserLock(user: string): Promise<void> {
  return new Promise((resolve, reject) => {
    navigator.locks
      .request(`vest/${user}`, { signal: AbortSignal.timeout(5_000) }, () => {
        resolve();
        return new Promise<never>(() => {});
      })
      .catch(() => reject(new Error(`Vest is already open for ${user} in another tab of this browser`)));
  });
}

function renderRooms(rooms: string[], current: string, open: (room: string) => void): void {
  byId("rooms").replaceChildren(
    ...rooms.map((room) => {
      const item = el("li");
      const button = el("button", room === current ? "room current" : "room", `# ${room}`);
      button.type = "button";
      button.addEventListener("click", () => open(room));
      item.append(button);
      return item;
    }),
  );
}

main().catch((err: unknown) => {
  debug.error = (err as Error).message;
  document.body.dataset.view = "error";
  byId("fatal").textContent = `Vest could not start: ${(err as Error).message}`;
});
