package io.edgetunnel.ingress.support;

import java.util.Objects;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The ingress's own AWS credentials (its task role) for one test class, through the SDK's default
 * chain, where system properties come first; removed after the class. Register it as a static
 * {@code @RegisterExtension} field.
 */
public final class IngressAwsCredentials implements BeforeAllCallback, AfterAllCallback {

    private final String accessKeyId;
    private final String secretAccessKey;

    public IngressAwsCredentials(String accessKeyId, String secretAccessKey) {
        this.accessKeyId = Objects.requireNonNull(accessKeyId, "accessKeyId");
        this.secretAccessKey = Objects.requireNonNull(secretAccessKey, "secretAccessKey");
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        System.setProperty("aws.accessKeyId", accessKeyId);
        System.setProperty("aws.secretAccessKey", secretAccessKey);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
    }
}
