package io.dstream.broker.store;

/** The {@link MessageStore} contract on {@link InMemoryMessageStore}. */
class InMemoryMessageStoreTest extends MessageStoreContract {

  @Override
  protected MessageStore create() {
    return new InMemoryMessageStore();
  }
}
