package io.imagemirror.store;

class InMemoryBlobStoreTest extends BlobStoreContract {
    @Override
    protected BlobStore newStore() {
        return new InMemoryBlobStore();
    }

    @Override
    protected boolean presigns() {
        return false;
    }

    @Override
    protected BigPutChild bigPutChild() {
        return null;
    }
}
