package io.imagemirror.cache;

import io.imagemirror.oci.Descriptor;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.Manifest;
import io.imagemirror.reference.RepositoryName;
import io.imagemirror.store.BlobIndex;
import io.imagemirror.store.ManifestIndex;
import io.imagemirror.store.StoreException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Which of the stored content a repository may be served. Blobs and manifests are stored once by
 * digest for all repositories, but a digest alone must not open one repository's content under
 * another name: a layer fetched with credentials from a private repository would otherwise go to
 * anyone who asks for it under a public name. Distribution scopes content per repository; so do we.
 *
 * <p>Content is known in a repository when the index records it there (a manifest record, or a
 * blob reference of one of its manifests: one keyed lookup, no scan), or when this process served
 * that repository a manifest listing it, or when the repository's upstream confirmed it (the
 * caller's HEAD, then {@linkplain #vouch remembered}). What is remembered is bounded and only ever
 * spares a lookup or a HEAD; forgetting it changes no answer. Thread-safe.
 */
final class RepositoryScope {
    private static final int MAX_REMEMBERED = 100_000;

    private final ManifestIndex manifestIndex;
    private final BlobIndex blobIndex;
    private final Consumer<String> log;
    private final Set<String> vouched = ConcurrentHashMap.newKeySet();

    RepositoryScope(ManifestIndex manifestIndex, BlobIndex blobIndex, Consumer<String> log) {
        this.manifestIndex = manifestIndex;
        this.blobIndex = blobIndex;
        this.log = log;
    }

    /** Whether the manifest {@code digest} is known in {@code repository}. */
    boolean knowsManifest(RepositoryName repository, Digest digest) {
        return vouched.contains(key(repository, digest))
                || manifestIndex.getManifest(repository.toString(), digest).isPresent();
    }

    /** Whether the blob {@code digest} is known in {@code repository}. */
    boolean knowsBlob(RepositoryName repository, Digest digest) {
        if (vouched.contains(key(repository, digest))) {
            return true;
        }
        try {
            return blobIndex.isReferencedIn(digest, repository.toString());
        } catch (StoreException e) {
            // An index that cannot answer (down, or a DynamoDB table not yet migrated to blob
            // references) leaves the upstream to vouch: the same answer, one HEAD dearer.
            log.accept("blob references of " + repository + " unavailable, asking upstream: " + e.getMessage());
            return false;
        }
    }

    /** Remembers that {@code repository} may be served {@code digest} (its upstream has it). */
    void vouch(RepositoryName repository, Digest digest) {
        if (vouched.size() > MAX_REMEMBERED) {
            vouched.clear();
        }
        vouched.add(key(repository, digest));
    }

    /**
     * Remembers what a manifest served under {@code repository} lists: its config, layers and
     * child manifests are that repository's too (a client fetches them next).
     */
    void vouchForContents(RepositoryName repository, Manifest manifest) {
        for (Descriptor d : manifest.blobs()) {
            vouch(repository, d.digest());
        }
        for (Descriptor d : manifest.manifests()) {
            vouch(repository, d.digest());
        }
    }

    private static String key(RepositoryName repository, Digest digest) {
        return repository + " " + digest;
    }
}
