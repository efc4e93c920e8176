import { parentPort, workerData } from "node:worker_threads";
import { type Recording, startStubCore } from "./portal-stub-core.js";

/** The portal stub in its own thread, so its work does not share the event loop under test. */
const port = parentPort!;
const core = await startStubCore({
  secret: workerData.secret as string,
  onComplete: () => port.postMessage({ type: "complete" }),
});
port.on("message", (m: { type: "record"; recording: Recording | null } | { type: "close" }) => {
  if (m.type === "record") {
    core.record(m.recording);
    port.postMessage({ type: "recording" });
  } else {
    core.server.closeAllConnections();
    core.server.close(() => port.postMessage({ type: "closed" }));
  }
});
port.postMessage({ type: "ready", url: core.url });
