// Coordination recipes on top of the Kraal client. Each recipe takes a connected ZooKeeperClient;
// after that client's session expires the recipe reports it (lock 'lost', leader 'closed', cache
// 'closed') and a new client (new session) is needed to take part again.
export { Mutex, ReadWriteLock, LockBase } from './lock.js';
export { LeaderLatch } from './leader.js';
export { Semaphore, Lease } from './semaphore.js';
export { Barrier, DoubleBarrier } from './barrier.js';
export { DistributedCounter } from './counter.js';
export { DistributedQueue } from './queue.js';
export { TreeCache, type TreeNode, type TreeCacheEvent } from './tree-cache.js';
export { createProtected, retry, waitConnected, sequenceOf } from './util.js';
