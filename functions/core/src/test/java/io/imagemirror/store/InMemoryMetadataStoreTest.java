package io.imagemirror.store;

class InMemoryMetadataStoreTest extends MetadataStoreContract {
    @Override
    protected MetadataStore newStore(TickingClock clock) {
        return new InMemoryMetadataStore(clock);
    }
}
