package io.dstream.broker.nats;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Values filed under NATS subject patterns (nats-server's sublist): a trie of tokens with
 * {@code *} and {@code >} branches, and the lookups of the values whose patterns a literal subject
 * matches. {@link SubjectIndex} files this node's subscriptions in one, {@link PeerInterests} what
 * another node announced.
 *
 * <p>Not thread-safe: its owner guards it.
 */
final class TokenTrie<V> {

  private static final class Node<V> {
    final Map<String, Node<V>> literals = new HashMap<>();
    Node<V> star;
    Node<V> rest;
    final List<V> values = new ArrayList<>();

    boolean isEmpty() {
      return literals.isEmpty() && star == null && rest == null && values.isEmpty();
    }
  }

  private final Node<V> root = new Node<>();

  /** Files {@code value} under the pattern of {@code tokens}. */
  void add(String[] tokens, V value) {
    Node<V> node = root;
    for (String token : tokens) {
      node = switch (token) {
        case "*" -> node.star == null ? (node.star = new Node<>()) : node.star;
        case ">" -> node.rest == null ? (node.rest = new Node<>()) : node.rest;
        default -> node.literals.computeIfAbsent(token, t -> new Node<>());
      };
    }
    node.values.add(value);
  }

  /** Removes {@code value} from under the pattern of {@code tokens}, and the branches left empty; false if it was not there. */
  boolean remove(String[] tokens, V value) {
    return remove(root, tokens, 0, value);
  }

  private static <V> boolean remove(Node<V> node, String[] tokens, int depth, V value) {
    if (depth == tokens.length) {
      return node.values.remove(value);
    }
    String token = tokens[depth];
    Node<V> child = switch (token) {
      case "*" -> node.star;
      case ">" -> node.rest;
      default -> node.literals.get(token);
    };
    if (child == null || !remove(child, tokens, depth + 1, value)) {
      return false;
    }
    if (child.isEmpty()) {
      switch (token) {
        case "*" -> node.star = null;
        case ">" -> node.rest = null;
        default -> node.literals.remove(token);
      }
    }
    return true;
  }

  /** Adds to {@code found} the values whose patterns the literal subject of {@code tokens} matches. */
  void collect(String[] tokens, List<V> found) {
    collect(root, tokens, 0, found);
  }

  private static <V> void collect(Node<V> node, String[] tokens, int depth, List<V> found) {
    if (node.rest != null && depth < tokens.length) {
      found.addAll(node.rest.values);
    }
    if (depth == tokens.length) {
      found.addAll(node.values);
      return;
    }
    Node<V> literal = node.literals.get(tokens[depth]);
    if (literal != null) {
      collect(literal, tokens, depth + 1, found);
    }
    if (node.star != null) {
      collect(node.star, tokens, depth + 1, found);
    }
  }

  /**
   * Adds to {@code found} the values every subject {@code prefix.<one token>} matches and returns
   * true, or returns false when the answer depends on that token (a pattern names it, or something
   * below it, literally).
   */
  boolean collectFamily(String[] prefix, List<V> found) {
    return collectFamily(root, prefix, 0, found);
  }

  private static <V> boolean collectFamily(Node<V> node, String[] tokens, int depth, List<V> found) {
    // One more token follows the prefix, so a '>' anywhere on the way matches.
    if (node.rest != null) {
      found.addAll(node.rest.values);
    }
    if (depth == tokens.length) {
      if (!node.literals.isEmpty()) {
        return false;
      }
      if (node.star != null) {
        found.addAll(node.star.values);
      }
      return true;
    }
    Node<V> literal = node.literals.get(tokens[depth]);
    if (literal != null && !collectFamily(literal, tokens, depth + 1, found)) {
      return false;
    }
    return node.star == null || collectFamily(node.star, tokens, depth + 1, found);
  }
}
