package io.dstream.broker.nats;

import io.dstream.pattern.TokenPattern;
import io.vertx.core.json.JsonObject;

/**
 * A declared JetStream stream: its name, its one subject (a literal subject, or one wildcard pattern
 * that makes it a view over every matching subject, each with its own sequence), the config as the
 * client sent it, and when it was created. Immutable.
 *
 * @param name    the stream's name
 * @param subject its literal subject, or its pattern ({@code orders.>})
 * @param config  the config as stored
 * @param created when it was declared (RFC 3339)
 */
record StreamDeclaration(String name, String subject, JsonObject config, String created) {

  static final String LIMITS = "limits";
  static final String WORK_QUEUE = "workqueue";

  /** A view over every subject its pattern matches, rather than one subject. */
  boolean wildcard() {
    return SubjectPatterns.isPattern(subject);
  }

  /** JetStream's retention policy as declared: {@value #LIMITS} or {@value #WORK_QUEUE}. */
  String retention() {
    return config.getString("retention", LIMITS);
  }

  /** Acknowledged messages leave the subject (only one consumer may take each subject's messages). */
  boolean workQueue() {
    return WORK_QUEUE.equals(retention());
  }

  TokenPattern pattern() {
    return TokenPattern.subjects(subject);
  }
}
