export {
  type NewPortal,
  type Portal,
  PortalRepository,
  type PortalState,
  PortalStates,
} from "./repository.js";
