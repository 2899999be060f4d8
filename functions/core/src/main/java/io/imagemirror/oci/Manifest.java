package io.imagemirror.oci;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A manifest or index exactly as received: the raw bytes are kept and are what gets stored and
 * served (never re-serialized), the digest is always computed over them, and a parsed view gives
 * config, layers, child manifests with platforms, annotations, subject and artifact type.
 * Immutable; {@link #raw()} returns a copy.
 */
public final class Manifest {

    /** The largest manifest accepted, as distribution and the OCI spec suggest (4 MiB). */
    public static final int MAX_SIZE = 4 * 1024 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final byte[] raw;
    private final Digest digest;
    private final String mediaType;
    private final Descriptor config;
    private final List<Descriptor> layers;
    private final List<Descriptor> manifests;
    private final Map<String, String> annotations;
    private final Descriptor subject;
    private final String artifactType;

    private Manifest(byte[] raw, Digest digest, String mediaType, Descriptor config, List<Descriptor> layers,
                     List<Descriptor> manifests, Map<String, String> annotations, Descriptor subject,
                     String artifactType) {
        this.raw = raw;
        this.digest = digest;
        this.mediaType = mediaType;
        this.config = config;
        this.layers = layers;
        this.manifests = manifests;
        this.annotations = annotations;
        this.subject = subject;
        this.artifactType = artifactType;
    }

    /**
     * Parses manifest bytes, with the sha256 digest computed over them.
     *
     * @param raw the exact bytes received
     * @param contentType the media type the server declared ({@code Content-Type}), or null; the
     *     document's own {@code mediaType} field wins when present
     * @throws InvalidManifestException when the bytes are not a supported manifest
     */
    public static Manifest parse(byte[] raw, String contentType) {
        return parse(raw, contentType, Digest.Algorithm.SHA256);
    }

    /** As {@link #parse(byte[], String)}, hashing with {@code algorithm}. */
    public static Manifest parse(byte[] raw, String contentType, Digest.Algorithm algorithm) {
        if (raw.length > MAX_SIZE) {
            throw new InvalidManifestException(InvalidManifestException.Kind.TOO_LARGE,
                    "manifest of " + raw.length + " bytes is larger than the " + MAX_SIZE + "-byte limit");
        }
        byte[] bytes = raw.clone();
        Digest digest = Digest.compute(algorithm, bytes);
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new InvalidManifestException(InvalidManifestException.Kind.MALFORMED,
                    "manifest " + digest + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new InvalidManifestException(InvalidManifestException.Kind.MALFORMED,
                    "manifest " + digest + " is not readable: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new InvalidManifestException(InvalidManifestException.Kind.MALFORMED,
                    "manifest " + digest + " is not a JSON object");
        }
        String declared = text(root, "mediaType");
        String hint = contentType == null ? null : stripParameters(contentType);
        JsonNode schemaVersion = root.get("schemaVersion");
        if (MediaTypes.isSchema1(declared) || MediaTypes.isSchema1(hint)
                || (schemaVersion != null && schemaVersion.asInt() == 1)) {
            throw new InvalidManifestException(InvalidManifestException.Kind.SCHEMA1,
                    "manifest " + digest + " is Docker image manifest schema 1, which is deprecated and not supported;"
                            + " push the image again with a current client");
        }
        if (schemaVersion == null || !schemaVersion.isInt() || schemaVersion.asInt() != 2) {
            throw new InvalidManifestException(InvalidManifestException.Kind.MALFORMED,
                    "manifest " + digest + " has no schemaVersion 2");
        }
        String mediaType = declared != null ? declared : inferType(root, hint);
        if (!MediaTypes.isSupportedManifest(mediaType)) {
            throw new InvalidManifestException(InvalidManifestException.Kind.UNSUPPORTED_MEDIA_TYPE,
                    "manifest " + digest + " has unsupported media type \"" + mediaType + "\"");
        }
        if (declared != null && hint != null && MediaTypes.isSupportedManifest(hint) && !hint.equals(declared)) {
            throw new InvalidManifestException(InvalidManifestException.Kind.MALFORMED,
                    "manifest " + digest + " declares media type " + declared + " but was served as " + hint);
        }
        boolean index = MediaTypes.isIndex(mediaType);
        Descriptor config = null;
        List<Descriptor> layers = List.of();
        List<Descriptor> manifests = List.of();
        if (index) {
            manifests = descriptors(root, "manifests", digest, true);
        } else {
            JsonNode c = root.get("config");
            if (c == null || !c.isObject()) {
                throw new InvalidManifestException(InvalidManifestException.Kind.MALFORMED,
                        "image manifest " + digest + " has no config descriptor");
            }
            config = descriptor(c, digest, false);
            layers = descriptors(root, "layers", digest, false);
        }
        JsonNode s = root.get("subject");
        Descriptor subject = s != null && s.isObject() ? descriptor(s, digest, false) : null;
        return new Manifest(bytes, digest, mediaType, config, layers, manifests, stringMap(root.get("annotations")),
                subject, text(root, "artifactType"));
    }

    private static String inferType(JsonNode root, String hint) {
        if (hint != null && MediaTypes.isSupportedManifest(hint)) {
            return hint;
        }
        // OCI allows omitting mediaType; the shape tells index from image manifest.
        if (root.has("manifests")) {
            return MediaTypes.OCI_INDEX;
        }
        if (root.has("config")) {
            return MediaTypes.OCI_MANIFEST;
        }
        return hint == null ? "(none)" : hint;
    }

    private static List<Descriptor> descriptors(JsonNode root, String field, Digest owner, boolean withPlatform) {
        JsonNode arr = root.get(field);
        if (arr == null || arr.isNull()) {
            return List.of();
        }
        if (!arr.isArray()) {
            throw new InvalidManifestException(InvalidManifestException.Kind.MALFORMED,
                    "manifest " + owner + ": \"" + field + "\" is not an array");
        }
        List<Descriptor> out = new ArrayList<>(arr.size());
        for (JsonNode n : arr) {
            out.add(descriptor(n, owner, withPlatform));
        }
        return Collections.unmodifiableList(out);
    }

    private static Descriptor descriptor(JsonNode n, Digest owner, boolean withPlatform) {
        if (!n.isObject()) {
            throw new InvalidManifestException(InvalidManifestException.Kind.MALFORMED,
                    "manifest " + owner + " has a descriptor that is not an object");
        }
        String d = text(n, "digest");
        if (d == null) {
            throw new InvalidManifestException(InvalidManifestException.Kind.MALFORMED,
                    "manifest " + owner + " has a descriptor without digest");
        }
        Digest digest;
        try {
            digest = Digest.parse(d);
        } catch (InvalidDigestException e) {
            throw new InvalidManifestException(InvalidManifestException.Kind.MALFORMED,
                    "manifest " + owner + ": " + e.getMessage(), e);
        }
        JsonNode size = n.get("size");
        if (size == null || !size.canConvertToLong() || size.asLong() < 0) {
            throw new InvalidManifestException(InvalidManifestException.Kind.MALFORMED,
                    "manifest " + owner + ": descriptor " + digest + " has no valid size");
        }
        List<String> urls = new ArrayList<>();
        JsonNode u = n.get("urls");
        if (u != null && u.isArray()) {
            u.forEach(x -> urls.add(x.asText()));
        }
        Platform platform = null;
        JsonNode p = n.get("platform");
        if (withPlatform && p != null && p.isObject() && text(p, "os") != null && text(p, "architecture") != null) {
            platform = Platform.of(text(p, "os"), text(p, "architecture"), text(p, "variant"), text(p, "os.version"));
        }
        return new Descriptor(text(n, "mediaType"), digest, size.asLong(), urls, stringMap(n.get("annotations")),
                platform, text(n, "artifactType"));
    }

    private static Map<String, String> stringMap(JsonNode n) {
        if (n == null || !n.isObject()) {
            return Map.of();
        }
        Map<String, String> m = new LinkedHashMap<>();
        n.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asText()));
        return Collections.unmodifiableMap(m);
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() || !v.isValueNode() ? null : v.asText();
    }

    private static String stripParameters(String contentType) {
        int semi = contentType.indexOf(';');
        return (semi < 0 ? contentType : contentType.substring(0, semi)).trim();
    }

    /** A copy of the exact bytes. */
    public byte[] raw() {
        return raw.clone();
    }

    /** The size of the raw bytes. */
    public long size() {
        return raw.length;
    }

    /** The digest of the raw bytes. */
    public Digest digest() {
        return digest;
    }

    public String mediaType() {
        return mediaType;
    }

    /** Whether this is an index / manifest list. */
    public boolean isIndex() {
        return MediaTypes.isIndex(mediaType);
    }

    /** The config descriptor of an image manifest; empty for an index. */
    public Optional<Descriptor> config() {
        return Optional.ofNullable(config);
    }

    /** The layers of an image manifest (empty for an index). */
    public List<Descriptor> layers() {
        return layers;
    }

    /** The child manifests of an index, with their platforms (empty for an image manifest). */
    public List<Descriptor> manifests() {
        return manifests;
    }

    /** The config and layers: every blob an image manifest references (empty for an index). */
    public List<Descriptor> blobs() {
        if (config == null) {
            return layers;
        }
        List<Descriptor> all = new ArrayList<>(layers.size() + 1);
        all.add(config);
        all.addAll(layers);
        return Collections.unmodifiableList(all);
    }

    public Map<String, String> annotations() {
        return annotations;
    }

    /** The manifest this one refers to (OCI 1.1 referrers), if any. */
    public Optional<Descriptor> subject() {
        return Optional.ofNullable(subject);
    }

    /**
     * The artifact type as the OCI 1.1 referrers API reports it: the {@code artifactType} field, or for
     * an image manifest without one, the config media type.
     */
    public Optional<String> artifactType() {
        if (artifactType != null) {
            return Optional.of(artifactType);
        }
        return config == null ? Optional.empty() : Optional.of(config.mediaType());
    }

    /** A descriptor of this manifest (media type, digest, size), for an index entry or referrers list. */
    public Descriptor toDescriptor() {
        return new Descriptor(mediaType, digest, raw.length, List.of(), annotations, null, artifactType);
    }

    @Override
    public String toString() {
        return mediaType + " " + digest + " (" + raw.length + " bytes)";
    }
}
