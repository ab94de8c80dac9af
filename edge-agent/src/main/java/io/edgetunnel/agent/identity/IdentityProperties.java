package io.edgetunnel.agent.identity;

import java.net.URI;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The agent's own identity ({@code agent.identity.*}).
 *
 * @param mode {@code verify} (default), {@code warn} or {@code off}; env {@code AGENT_IDENTITY_MODE}
 * @param cluster the ECS cluster (name or ARN) this agent must run in; required unless {@code off}
 * @param metadataUri task metadata v4 base URI; defaults to env {@code ECS_CONTAINER_METADATA_URI_V4}
 * @param timeout upper bound for the whole self-check
 * @param proof the IAM proof sent in the hello for ingress mode {@code iam}
 */
@ConfigurationProperties("agent.identity")
public record IdentityProperties(
        @DefaultValue("verify") IdentityMode mode,
        @DefaultValue("") String cluster,
        URI metadataUri,
        @DefaultValue("30s") Duration timeout,
        @DefaultValue Proof proof) {

    public IdentityProperties {
        mode = mode == null ? IdentityMode.VERIFY : mode;
        cluster = cluster == null ? "" : cluster.trim();
        if (metadataUri == null) {
            String fromEnv = System.getenv("ECS_CONTAINER_METADATA_URI_V4");
            metadataUri = fromEnv == null || fromEnv.isBlank() ? null : URI.create(fromEnv.trim());
        }
        timeout = timeout == null ? Duration.ofSeconds(30) : timeout;
        proof = proof == null ? new Proof(false, "", null, "") : proof;
    }

    /** The same settings with another mode. */
    public IdentityProperties withMode(IdentityMode newMode) {
        return new IdentityProperties(newMode, cluster, metadataUri, timeout, proof);
    }

    /**
     * The SigV4-signed, unsent {@code sts:GetCallerIdentity} request the agent puts in its hello.
     *
     * @param enabled sign and send a proof in every hello
     * @param serverId the ingress's server id; must equal its {@code ingress.iam.server-id}
     * @param stsUrl the STS URL to sign for; must equal the ingress's {@code ingress.iam.sts-url}.
     *     Empty: {@code https://sts.REGION.amazonaws.com/}
     * @param region signing region; empty: the agent's AWS region
     */
    public record Proof(
            @DefaultValue("false") boolean enabled,
            @DefaultValue("") String serverId,
            URI stsUrl,
            @DefaultValue("") String region) {

        public Proof {
            serverId = serverId == null ? "" : serverId.trim();
            region = region == null ? "" : region.trim();
            if (enabled && serverId.isEmpty()) {
                throw new IllegalArgumentException("agent.identity.proof.server-id: empty "
                        + "(expected: the ingress's ingress.iam.server-id when the proof is enabled)");
            }
        }
    }
}
