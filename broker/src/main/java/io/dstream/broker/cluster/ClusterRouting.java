package io.dstream.broker.cluster;

import io.dstream.broker.stream.StreamError;

/** Where a subject's requests go in cluster mode; null routing object in single-node mode. */
public interface ClusterRouting {
  String nodeId();
  /** "http://host:port" of the node leading the subject's partition when it is another node; null when it is this node. */
  String remoteLeaderHttp(String subject) throws StreamError;  // StreamError kind UNAVAILABLE when no leader is known
}
