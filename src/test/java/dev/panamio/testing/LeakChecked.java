package dev.panamio.testing;

import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Every test class carries this: after the class, file descriptors and the native bytes held by panamio
 * loops must be back to their baseline.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@ExtendWith({FdLeakCheck.class, NativeLeakCheck.class})
public @interface LeakChecked {
}
