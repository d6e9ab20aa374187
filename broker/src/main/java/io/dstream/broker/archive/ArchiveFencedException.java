package io.dstream.broker.archive;

/**
 * Cluster mode: the bucket holds a manifest of the subject written under a newer term than the
 * caller's, so a newer leader checkpoints it and the caller, deposed, must write nothing more.
 */
public final class ArchiveFencedException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  ArchiveFencedException(String subject, long newerTerm, long term) {
    super("subject '" + subject + "' is checkpointed under term " + newerTerm + " by a newer leader; this node's term "
        + term + " may write no more of it");
  }
}
