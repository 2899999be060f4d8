package io.imagemirror.store;

/** The coordination contract in memory (what the local store and unit tests use). */
class InProcessCoordinationTest extends CoordinationContract<InProcessCoordination> {
    private final InProcessCoordination coordination = new InProcessCoordination();

    @Override
    protected InProcessCoordination coordination() {
        return coordination;
    }
}
