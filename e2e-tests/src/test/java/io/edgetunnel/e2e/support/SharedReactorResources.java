package io.edgetunnel.e2e.support;

import org.springframework.boot.SpringApplication;
import org.springframework.http.client.ReactorResourceFactory;

/**
 * Both applications share one JVM here. Boot's own {@link ReactorResourceFactory} disposes Reactor
 * Netty's global event loops when its context closes, which would kill every other application in
 * the JVM; this registers one that is never destroyed, so stopping an agent stops only that agent.
 */
final class SharedReactorResources {

    private static final ReactorResourceFactory FACTORY = create();

    private SharedReactorResources() {}

    static SpringApplication apply(SpringApplication application) {
        application.addInitializers(context ->
                context.getBeanFactory().registerSingleton("reactorResourceFactory", FACTORY));
        return application;
    }

    private static ReactorResourceFactory create() {
        // ReactorResourceFactory is a SmartLifecycle whose stop() disposes the global loops
        ReactorResourceFactory factory = new ReactorResourceFactory() {
            @Override
            public void stop() {}

            @Override
            public void destroy() {}
        };
        factory.setUseGlobalResources(true);
        factory.afterPropertiesSet();
        return factory;
    }
}
