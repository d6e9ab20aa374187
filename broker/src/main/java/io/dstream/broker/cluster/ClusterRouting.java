package io.dstream.broker.cluster;

import io.dstream.broker.stream.StreamError;

/** Where a subject's requests go in cluster mode; none (null) in single-node mode. */
public interface ClusterRouting {

  String nodeId();

  /**
   * "http://host:port" of the node leading the subject's partition when it is another node; null
   * when it is this node.
   *
   * @throws StreamError of kind UNAVAILABLE when no leader is known
   */
  String remoteLeaderHttp(String subject);
}
