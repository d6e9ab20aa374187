package io.dstream.broker.stream;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;

/**
 * Pages of a subject's older messages, read from the log for subscribers behind the tail
 * {@link MessageCache}, kept as read and shared by every subscriber that reaches them: ten
 * subscribers a little behind a fast publisher cost one read per page, not ten. Holds what a page read beyond a subscriber's window, too, so a replay still reads whole
 * pages while its acks come back a few at a time. A log's sequences never change content (deletions
 * only remove old ones, and a destroyed subject {@link #clear}s), so a page stays valid until it is
 * dropped. Bounded by pages and bytes, the oldest page dropped first. Not thread-safe: owned by one
 * {@link StreamActor}.
 */
final class FetchedPages {

  private final int maxPages;
  private final long maxBytes;
  private final ArrayDeque<Page> pages = new ArrayDeque<>();
  private long bytes;

  private record Page(List<CachedMessage> messages, long bytes) {

    long first() {
      return messages.get(0).sequence();
    }
  }

  FetchedPages(int maxPages, long maxBytes) {
    this.maxPages = maxPages;
    this.maxBytes = maxBytes;
  }

  /** Keeps a page of consecutive messages (newest page first in lookups). */
  void add(List<CachedMessage> messages) {
    if (messages.isEmpty()) {
      return;
    }
    long pageBytes = 0;
    for (CachedMessage message : messages) {
      pageBytes += message.bytes();
    }
    pages.addFirst(new Page(messages, pageBytes));
    bytes += pageBytes;
    while (pages.size() > 1 && (pages.size() > maxPages || bytes > maxBytes)) {
      bytes -= pages.removeLast().bytes();
    }
  }

  /** The message with {@code sequence} if a kept page holds it, else null. */
  CachedMessage get(long sequence) {
    for (Page page : pages) {
      long offset = sequence - page.first();
      if (offset >= 0 && offset < page.messages().size()) {
        CachedMessage message = page.messages().get((int) offset);
        if (message.sequence() == sequence) {
          return message;
        }
      }
    }
    return null;
  }

  /** Forgets pages wholly below {@code firstSequence} (deleted). */
  void dropBelow(long firstSequence) {
    Iterator<Page> it = pages.iterator();
    while (it.hasNext()) {
      Page page = it.next();
      if (page.messages().get(page.messages().size() - 1).sequence() < firstSequence) {
        bytes -= page.bytes();
        it.remove();
      }
    }
  }

  void clear() {
    pages.clear();
    bytes = 0;
  }
}
