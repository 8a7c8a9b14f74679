package org.gridbook.bench

import java.nio.file.Files
import org.gridbook.core.*
import org.gridbook.ffi.*

/** Median and 99th percentile of `n` calls timed one by one, after `warm` untimed ones. */
private fun measure(what: String, warm: Int, n: Int, call: () -> Unit) {
    repeat(warm) { call() }
    val times = LongArray(n) {
        val start = System.nanoTime()
        call()
        System.nanoTime() - start
    }.sorted()
    println("%s: median %.1f µs, p99 %.1f µs (n=%d)".format(
        what, times[n / 2] / 1000.0, times[n * 99 / 100] / 1000.0, n))
}

/** A fresh store with one curtain-check routine. */
private fun storeWithRoutine(dir: java.io.File): Pair<Gridbook, String> {
    val gb = Gridbook.open(dir.path, OpenOptions(user = "王芳", device = "bench", durability = Durability.NORMAL))
    val grid = gb.createGrid(NewGrid("第三网格", "幸福村", "天平街道"))
    val home = gb.addHousehold(grid.id, NewHousehold("一组3号", "赵桂兰", null, listOf(), ""))
    val r = gb.addResident(home.id, NewResident("赵桂兰", null, Gender.FEMALE, "1938-02-14", Relation.HEAD, null, Registration.REGISTERED, listOf()))
    val routine = gb.addRoutine(r.id, NewRoutine(SignalKind.CURTAINS, "07:30", listOf(Day.MON, Day.TUE, Day.WED, Day.THU, Day.FRI, Day.SAT, Day.SUN), ""))
    return gb to routine.id
}

/** Calls made on a throwaway store first, as in ffi/benches/overhead.rs: the JIT compiles a path only
 *  after some ten thousand runs, and an app recording checks all day runs compiled code. */
private const val WARM_CALLS = 20_000

/** The Kotlin side of the FFI overhead figure (see ffi/benches/overhead.rs, same schedule): a
 *  sighting recorded through JNA on a fresh store with synchronous=NORMAL. Then what the boundary's
 *  pieces cost on their own, to show where the overhead goes. */
fun main() {
    val root = Files.createTempDirectory("gridbook-bench").toFile()
    val (warm, warmRoutine) = storeWithRoutine(root.resolve("warm"))
    repeat(WARM_CALLS) { warm.recordSighting(Sighting(warmRoutine)) }
    warm.close()
    val dir = root.resolve("timed")
    val (gb, routineId) = storeWithRoutine(dir)
    measure("record_sighting, Kotlin via JNA", 2_000, 5_000) { gb.recordSighting(Sighting(routineId)) }
    // Nothing below touches the store's files: these are the boundary's own costs.
    measure("today(): clone the handle, call, free the returned string (3 native calls)", 20_000, 20_000) { gb.today() }
    measure("a Sighting lowered into a RustBuffer and freed (2 native calls)", 20_000, 20_000) {
        org.gridbook.ffi.RustBuffer.free(FfiConverterTypeSighting.lower(Sighting(routineId)))
    }
    measure("one call-status structure allocated (no native call)", 20_000, 20_000) { org.gridbook.ffi.UniffiRustCallStatus() }
    gb.close()
    root.deleteRecursively()
}
