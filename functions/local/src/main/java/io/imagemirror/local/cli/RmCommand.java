package io.imagemirror.local.cli;

import io.imagemirror.cache.NameRouter;
import io.imagemirror.listing.ImageListing;
import io.imagemirror.reference.InvalidReferenceException;
import io.imagemirror.store.Storage;
import io.imagemirror.sweep.ImageRemover;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code image-mirror rm REF...}, like {@code docker image rm}: a tag reference untags, a digest
 * reference ({@code name@sha256:...}) deletes the manifest unless a tag or a kept index keeps it, an
 * image ID (or a prefix: refused, naming the candidates, when it starts several) deletes that image.
 * Blobs go with the next sweep ({@code prune}) once nothing references them.
 */
@Command(name = "rm", mixinStandardHelpOptions = true,
        description = {"Remove images: untag a tag reference; delete a digest reference (name@sha256:...) or an "
                + "image ID (IMAGE ID of images, or a unique prefix).",
            "A digest still tagged is refused unless --force (which untags it first); one listed by an index is "
                + "refused. Blobs are reclaimed by the next prune."})
final class RmCommand implements Callable<Integer> {

    @ParentCommand
    ImageMirrorCommand parent;

    @Spec
    CommandSpec spec;

    @Option(names = {"-f", "--force"}, description = "Untag a tagged digest first, then delete it.")
    boolean force;

    @Parameters(arity = "1..*", paramLabel = "REF", description = "name:tag, name@sha256:..., or an IMAGE ID "
            + "as images shows it (or a prefix of at least 4 hex digits)")
    List<String> references;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        NameRouter names = new NameRouter(parent.config());
        int status = 0;
        try (Storage storage = parent.store.open()) {
            ImageRemover remover = new ImageRemover(storage, Clock.systemUTC());
            ImageListing listing = new ImageListing(storage.tagIndex(), storage.manifestIndex(), names);
            for (String r : references) {
                try {
                    ImageRemover.Outcome o = remover.remove(r, force, names, listing);
                    o.untagged().forEach(t -> out.println("Untagged: " + t));
                    o.deleted().forEach(d -> out.println("Deleted: " + d));
                } catch (InvalidReferenceException | ImageRemover.RefusedException | ImageRemover.NotFoundException e) {
                    err.println("error: " + e.getMessage());
                    status = 1;
                }
                out.flush();
                err.flush();
            }
        }
        return status;
    }
}
