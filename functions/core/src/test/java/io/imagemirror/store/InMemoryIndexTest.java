package io.imagemirror.store;

class InMemoryIndexTest extends MetadataStoreContract {
    @Override
    protected Storage newStorage(TickingClock clock) {
        return InMemoryIndex.storage(clock);
    }
}
