import { createApp } from "./app.ts";

export { ChainCoordinator } from "./chain-coordinator.ts";

export default createApp();
