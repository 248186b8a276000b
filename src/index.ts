// Public entry point for embedding Kraal.
export { startServer, runServer, type RunningServer, type StartOptions } from './server/start.js';
export { defaultConfig, parseZooCfg, type ServerConfig } from './server/config.js';
export { ZkServer } from './server/zk-server.js';
// The client and the coordination recipes.
export * from './client/index.js';
export * from './recipes/index.js';
