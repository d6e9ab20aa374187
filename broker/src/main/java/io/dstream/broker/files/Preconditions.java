package io.dstream.broker.files;

import io.vertx.core.http.HttpServerRequest;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * The conditional request headers of RFC 9110 section 13 evaluated in its order (13.2.2):
 * {@code If-Match}, else {@code If-Unmodified-Since} (412 when false); then {@code If-None-Match},
 * else {@code If-Modified-Since} (304 when false, for GET and HEAD).
 */
final class Preconditions {

  enum Outcome { PROCEED, NOT_MODIFIED, PRECONDITION_FAILED }

  private Preconditions() {
  }

  static Outcome evaluate(HttpServerRequest request, String etag, ZonedDateTime lastModified) {
    String ifMatch = request.getHeader("If-Match");
    if (ifMatch != null) {
      if (!matches(ifMatch, etag, false)) {
        return Outcome.PRECONDITION_FAILED;
      }
    } else {
      ZonedDateTime unmodifiedSince = date(request.getHeader("If-Unmodified-Since"));
      if (unmodifiedSince != null && seconds(lastModified) > seconds(unmodifiedSince)) {
        return Outcome.PRECONDITION_FAILED;
      }
    }
    String ifNoneMatch = request.getHeader("If-None-Match");
    if (ifNoneMatch != null) {
      return matches(ifNoneMatch, etag, true) ? Outcome.NOT_MODIFIED : Outcome.PROCEED;
    }
    ZonedDateTime modifiedSince = date(request.getHeader("If-Modified-Since"));
    if (modifiedSince != null && seconds(lastModified) <= seconds(modifiedSince)) {
      return Outcome.NOT_MODIFIED;
    }
    return Outcome.PROCEED;
  }

  /** Whether a list of entity tags (or {@code *}) matches; weak comparison ignores {@code W/}. */
  private static boolean matches(String header, String etag, boolean weak) {
    for (String candidate : header.split(",")) {
      String tag = candidate.trim();
      if (tag.equals("*")) {
        return true;
      }
      if (tag.startsWith("W/")) {
        if (!weak) {
          continue;
        }
        tag = tag.substring(2);
      }
      if (unquote(tag).equals(etag)) {
        return true;
      }
    }
    return false;
  }

  static String unquote(String tag) {
    return tag.length() >= 2 && tag.startsWith("\"") && tag.endsWith("\"") ? tag.substring(1, tag.length() - 1) : tag;
  }

  private static ZonedDateTime date(String header) {
    if (header == null) {
      return null;
    }
    try {
      return ZonedDateTime.parse(header.trim(), DateTimeFormatter.RFC_1123_DATE_TIME);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static long seconds(ZonedDateTime time) {
    return time.toEpochSecond();
  }
}
