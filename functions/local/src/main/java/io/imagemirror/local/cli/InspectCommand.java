package io.imagemirror.local.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.listing.InvalidFilterException;
import io.imagemirror.listing.JsonTemplate;
import io.imagemirror.listing.MirrorViews;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code image-mirror inspect REF...}: what docker manifest inspect and docker image inspect show, as JSON. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Show a mirrored image as JSON: digest, media type, platforms (each with digest, size and "
                + "whether it is stored), layers, labels, created, pulls and last pull, pins, and the tags "
                + "pointing at it.",
            "size is the stored (compressed) bytes of the distinct config and layer blobs (over the stored "
                + "platforms of a multi-platform image); manifestSize is the manifest's own length."})
final class InspectCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @ParentCommand
    ImageMirrorCommand parent;

    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "REF", description = "image references: tags or digests")
    List<String> references;

    @Option(names = {"-f", "--format"}, paramLabel = "TEMPLATE",
            description = "A template over the JSON, e.g. '{{.id}}', '{{json .platforms}}', '{{.labels.team}}'.")
    String format;

    @Override
    public Integer call() throws Exception {
        JsonTemplate template;
        try {
            template = format == null ? null : JsonTemplate.parse(format);
        } catch (InvalidFilterException e) {
            throw ViewOptions.usage(spec.commandLine(), e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        return ViewOptions.withViews(parent, spec.commandLine(), views -> {
            ArrayNode all = JSON.createArrayNode();
            int status = 0;
            for (String r : references) {
                try {
                    ObjectNode o = views.inspect(r);
                    if (template != null) {
                        out.println(template.apply(o));
                    } else {
                        all.add(o);
                    }
                } catch (MirrorViews.NoSuchImageException e) {
                    err.println("error: " + e.getMessage());
                    status = 1;
                }
            }
            if (template == null) {
                out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(all));
            }
            out.flush();
            err.flush();
            return status;
        });
    }
}
