package io.imagemirror.local.cli;

import io.imagemirror.listing.ImageFormat;
import io.imagemirror.listing.ImageListing;
import io.imagemirror.listing.ImageRow;
import io.imagemirror.listing.InvalidFilterException;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code image-mirror images [REPO[:TAG]]}: the mirrored images, as {@code docker image ls} lists local ones. */
@Command(name = "images", aliases = "ls", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"List mirrored images: one line per tag, like docker image ls.",
            "IMAGE ID is the config digest of an image; of a multi-platform image it is the index digest.",
            "SIZE is the stored (compressed) size of the distinct config and layer blobs; of a multi-platform "
                + "image, the sum over its stored platforms (a layer two platforms share counts once).",
            "CREATED is the image's own creation time; before/since filters follow mirror order.",
            "Read page by page from the store: printing starts at once, however many tags there are."})
final class ImagesCommand implements Callable<Integer> {

    @ParentCommand
    ImageMirrorCommand parent;

    @Spec
    CommandSpec spec;

    @Parameters(arity = "0..1", paramLabel = "REPO[:TAG]", description = "Only this repository (or tag), e.g. alpine or alpine:3.20.")
    String reference;

    @Option(names = {"-a", "--all"}, description = "Also list untagged (dangling) manifests, with TAG <none>.")
    boolean all;

    @Option(names = {"-q", "--quiet"}, description = "Only show image IDs.")
    boolean quiet;

    @Option(names = "--digests", description = "Show the manifest digests.")
    boolean digests;

    @Option(names = "--no-trunc", description = "Do not truncate image IDs.")
    boolean noTrunc;

    @Option(names = {"-f", "--filter"}, paramLabel = "KEY=VALUE",
            description = {"Filter (repeatable): dangling=true|false, before=REF, since=REF, label=KEY[=VALUE], "
                    + "reference=PATTERN (glob on REPOSITORY:TAG).",
                "Repeated reference= patterns are alternatives; every other filter must hold."})
    List<String> filters = new ArrayList<>();

    @Option(names = "--format", paramLabel = "FORMAT",
            description = {"table (default), 'table TEMPLATE', json (one object per line), or a template of "
                    + "{{.Repository}} {{.Tag}} {{.ID}} {{.Digest}} {{.CreatedSince}} {{.CreatedAt}} {{.Size}}."})
    String format;

    @Override
    public Integer call() throws Exception {
        ImageFormat out;
        try {
            out = ImageFormat.of(format, digests, quiet, noTrunc);
        } catch (InvalidFilterException e) {
            throw ViewOptions.usage(spec.commandLine(), e.getMessage());
        }
        PrintWriter w = spec.commandLine().getOut();
        return ViewOptions.withViews(parent, spec.commandLine(), views -> {
            ImageListing listing = views.images();
            ImageListing.Rows rows = listing.rows(listing.query(reference, all, filters), null);
            ImageFormat.Printer printer = out.printer(w, Clock.systemUTC());
            for (ImageRow r = rows.next(); r != null; r = rows.next()) {
                printer.row(r);
            }
            printer.finish();
            w.flush();
            return 0;
        });
    }
}
