package io.dstream.broker.stream;

import io.dstream.broker.archive.ArchiveUnavailableException;
import io.dstream.broker.store.StoreException;

/**
 * The one failure type of a request to a subject, whichever view sent it: a {@link Kind} that each
 * surface maps to its own wire form (an HTTP status, a v1 error code), a stable {@code code} string
 * and a message for the client. Refusals of a client's request carry no stack trace (they are
 * answers, not bugs); storage and internal failures keep their cause. Immutable.
 */
public final class StreamError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What went wrong, as far as a client is concerned. */
  public enum Kind {
    /** The request is malformed or breaks a rule of its protocol. */
    INVALID,
    /** The stream the request names does not exist. */
    NOT_FOUND,
    /** The request conflicts with the stream's current state (closed, out of order, mismatched). */
    CONFLICT,
    /** The stream was deleted. */
    GONE,
    /** A producer version (fencing token) lower than the subject's: a newer producer took over. */
    FENCED,
    /** A bound was reached (write queue, active subjects, waiters); the client may retry. */
    OVERLOADED,
    /** The subject is at a retention limit that refuses new messages (discard new); nothing was stored. */
    LIMIT_REACHED,
    /** The message is larger than its subject's retention limit allows; nothing was stored. */
    TOO_LARGE,
    /** What the request needs is in the bucket, which cannot be read right now; the client may retry. */
    UNAVAILABLE,
    /** The write could not be made durable, or the subject could not be loaded; nothing was stored. */
    STORAGE,
    /** Anything else: a bug. */
    INTERNAL
  }

  /** The {@link #code()} of {@link #wrongRevision}. */
  public static final String WRONG_REVISION = "wrong_revision";

  private final Kind kind;
  private final String code;
  private final long currentVersion;
  private final long providedVersion;

  private StreamError(Kind kind, String code, String message, Throwable cause, long currentVersion,
                      long providedVersion) {
    super(message, cause, false, cause != null);
    this.kind = kind;
    this.code = code;
    this.currentVersion = currentVersion;
    this.providedVersion = providedVersion;
  }

  /** A refusal of {@code kind} with its own {@code code}. */
  public static StreamError of(Kind kind, String code, String message) {
    return new StreamError(kind, code, message, null, 0, 0);
  }

  public static StreamError invalid(String code, String message) {
    return of(Kind.INVALID, code, message);
  }

  public static StreamError notFound(String code, String message) {
    return of(Kind.NOT_FOUND, code, message);
  }

  public static StreamError conflict(String code, String message) {
    return of(Kind.CONFLICT, code, message);
  }

  public static StreamError gone(String code, String message) {
    return of(Kind.GONE, code, message);
  }

  public static StreamError overloaded(String message) {
    return of(Kind.OVERLOADED, "overloaded", message);
  }

  /** A publish refused by a full subject's discard-new limit; the message names the limit, its value and its rule. */
  public static StreamError limitReached(String message) {
    return of(Kind.LIMIT_REACHED, "limit_reached", message);
  }

  /** A message over its subject's size limit; the message names the limit, its value and its rule. */
  public static StreamError tooLarge(String message) {
    return of(Kind.TOO_LARGE, "message_too_large", message);
  }

  /** A state write that expected another revision than the state's ({@link SubjectTransaction#putState(byte[], long)}). */
  public static StreamError wrongRevision(long expectedRevision, long currentRevision) {
    return new StreamError(Kind.CONFLICT, WRONG_REVISION, "wrong revision: expected " + expectedRevision
        + ", state is at revision " + currentRevision, null, currentRevision, expectedRevision);
  }

  public static StreamError fenced(long currentVersion, long providedVersion) {
    return new StreamError(Kind.FENCED, "fenced", "producer version " + providedVersion
        + " is older than the current version " + currentVersion, null, currentVersion, providedVersion);
  }

  /**
   * Any failure as a {@code StreamError}: itself, an unreadable bucket as {@link Kind#UNAVAILABLE}, a
   * store failure as {@link Kind#STORAGE}, anything else as {@link Kind#INTERNAL}.
   */
  public static StreamError from(Throwable failure) {
    if (failure instanceof StreamError error) {
      return error;
    }
    if (failure instanceof ArchiveUnavailableException) {
      return new StreamError(Kind.UNAVAILABLE, "unavailable", failure.getMessage(), null, 0, 0);
    }
    if (failure instanceof StoreException) {
      return new StreamError(Kind.STORAGE, "storage_error", failure.getMessage(), failure, 0, 0);
    }
    return new StreamError(Kind.INTERNAL, "internal", "internal error", failure, 0, 0);
  }

  public Kind kind() {
    return kind;
  }

  /** A stable machine-readable code, as the HTTP surfaces answer it. */
  public String code() {
    return code;
  }

  /** For {@link Kind#FENCED}: the subject's producer version; for {@link #WRONG_REVISION}: the state's revision. */
  public long currentVersion() {
    return currentVersion;
  }

  /** For {@link Kind#FENCED}: the version the request carried; for {@link #WRONG_REVISION}: the expected revision. */
  public long providedVersion() {
    return providedVersion;
  }
}
