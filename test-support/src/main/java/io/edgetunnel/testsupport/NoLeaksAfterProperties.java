package io.edgetunnel.testsupport;

import net.jqwik.api.lifecycle.AfterContainerHook;
import net.jqwik.api.lifecycle.ContainerLifecycleContext;
import net.jqwik.api.lifecycle.PropagationMode;

/**
 * {@link NoLeaks} for jqwik's property tests, which run on their own engine and so never see JUnit
 * Jupiter's extensions: after each class of properties, the same garbage collection and check.
 * Registered for every jqwik container through this jar's {@code META-INF/services}; a module without
 * jqwik never loads it.
 */
public final class NoLeaksAfterProperties implements AfterContainerHook {

    @Override
    public void afterContainer(ContainerLifecycleContext context) {
        if (context.optionalContainerClass().isPresent()) {
            NoLeaks.assertNoLeaks();
        }
    }

    @Override
    public PropagationMode propagateTo() {
        return PropagationMode.ALL_DESCENDANTS;
    }
}
