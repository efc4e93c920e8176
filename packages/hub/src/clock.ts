export { type Clock, ManualClock, systemClock } from "@openlines/protocol";
