// The version we report. ZooKeeper tools parse "Zookeeper version: X.Y.Z-..." and
// feature-detect on it, so we report the ZooKeeper release whose behaviour we match.
export const KRAAL_VERSION = '0.1.0';
export const ZK_COMPAT_VERSION = '3.8.4';
