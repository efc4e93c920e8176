/** One event of the operator's stream (`GET /api/stream`). */
export interface StreamEvent {
  seq: number;
  type: string;
  data: any;
}

export interface StreamHandlers {
  onEvent(e: StreamEvent): void;
  /** The portal could not replay what was missed: fetch the state again. */
  onReload(): void;
  onState(connected: boolean): void;
}

/**
 * The workspace's live connection: a WebSocket that reconnects with back-off and asks for what it
 * missed with `?after=<last seq seen>`, so no event is lost across a drop. When the portal cannot
 * replay (restart, too far behind) it says `reload`, and the caller refetches. Pings every 25 s
 * keep proxies from closing an idle socket.
 */
export function openStream(h: StreamHandlers): { close(): void } {
  let ws: WebSocket | null = null;
  let lastSeq: number | undefined;
  let attempt = 0;
  let stopped = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let ping: ReturnType<typeof setInterval> | undefined;

  const connect = () => {
    const u = new URL("/api/stream", location.href);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    if (lastSeq !== undefined) u.searchParams.set("after", String(lastSeq));
    const socket = new WebSocket(u);
    ws = socket;
    socket.onmessage = (m) => {
      const e = JSON.parse(String(m.data)) as StreamEvent;
      if (e.type === "pong") return;
      if (e.type === "ready") {
        attempt = 0;
        lastSeq = e.seq;
        h.onState(true);
        return;
      }
      if (e.type === "reload") {
        lastSeq = e.seq;
        h.onReload();
        return;
      }
      if (typeof e.seq === "number") lastSeq = e.seq;
      h.onEvent(e);
    };
    socket.onopen = () => {
      ping = setInterval(() => socket.readyState === WebSocket.OPEN && socket.send("ping"), 25_000);
    };
    socket.onclose = () => {
      clearInterval(ping);
      if (ws === socket) ws = null;
      h.onState(false);
      if (stopped) return;
      attempt = Math.min(attempt + 1, 6);
      retryTimer = setTimeout(connect, 250 * 2 ** attempt);
    };
  };
  connect();
  // For the browser tests and for support: drop the connection and hold it down until resumed,
  // to see the workspace catch up on what happened meanwhile.
  (window as unknown as { __openlinesStream?: object }).__openlinesStream = {
    pause() {
      stopped = true;
      clearTimeout(retryTimer);
      ws?.close();
    },
    resume() {
      if (!stopped) return;
      stopped = false;
      connect();
    },
  };
  return {
    close() {
      stopped = true;
      clearTimeout(retryTimer);
      ws?.close();
    },
  };
}
