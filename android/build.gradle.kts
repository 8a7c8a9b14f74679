// Gridbook for Android: the generated Kotlin bindings (src/main/kotlin, written by
// scripts/bindings.sh) and libgridbook_ffi.so for each ABI, cross-compiled by cargo-ndk.
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("com.android.library") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.0.21"
}

group = "org.gridbook"
version = "0.1.0"

// Under build/ so that `gradle clean` removes it and nothing built is ever committed.
val rustJniLibs = layout.buildDirectory.dir("rustJniLibs").get().asFile

android {
    namespace = "org.gridbook.ffi"
    compileSdk = 35

    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
    }

    sourceSets {
        getByName("main") {
            kotlin.srcDir("src/main/kotlin")
            jniLibs.srcDir(rustJniLibs)
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    lint {
        // The generated code uses java.lang.ref.Cleaner (API 33) only after Class.forName finds
        // it, and falls back to JNA's cleaner below that.
        disable += "NewApi"
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

dependencies {
    // `api`: the generated RustBuffer extends JNA's Structure, so JNA is part of this module's API.
    // The @aar artifact carries libjnidispatch.so for each Android ABI; the plain jar does not.
    api("net.java.dev.jna:jna:5.14.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.8.1")
}

val cargoNdkBuild by tasks.registering(Exec::class) {
    group = "build"
    description = "Cross-compiles gridbook-ffi for each Android ABI into build/rustJniLibs"
    workingDir = rootDir.parentFile
    commandLine(
        "cargo", "ndk",
        "-t", "arm64-v8a", "-t", "armeabi-v7a", "-t", "x86_64",
        "-o", rustJniLibs.absolutePath,
        "build", "--release", "-p", "gridbook-ffi",
    )
    outputs.dir(rustJniLibs)
    // Cargo knows what changed in the workspace; Gradle would have to list every crate's sources.
    outputs.upToDateWhen { false }
}

// preBuild comes first in every variant; the merge tasks read the libraries themselves, and Gradle
// refuses a task that uses another's output without depending on it.
tasks.named("preBuild") { dependsOn(cargoNdkBuild) }
tasks.configureEach {
    if (name.startsWith("merge") && name.endsWith("JniLibFolders")) dependsOn(cargoNdkBuild)
}
