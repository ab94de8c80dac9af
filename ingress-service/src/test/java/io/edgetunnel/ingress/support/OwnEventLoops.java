package io.edgetunnel.ingress.support;

import org.springframework.boot.SpringApplication;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.http.client.ReactorResourceFactory;

/**
 * Gives an application started by a test its own Reactor Netty event loops. By default a closing
 * context disposes the global loops, killing every other server in the JVM (such as the shared
 * {@link IngressTest} context's).
 */
public final class OwnEventLoops {

    private OwnEventLoops() {}

    public static SpringApplication apply(SpringApplication application) {
        application.addInitializers(context -> ((GenericApplicationContext) context).registerBean(
                ReactorResourceFactory.class, () -> {
                    ReactorResourceFactory factory = new ReactorResourceFactory();
                    factory.setUseGlobalResources(false);
                    return factory;
                }));
        return application;
    }
}
