package org.gridbook.bench

import java.nio.file.Files
import org.gridbook.ffi.*

/** The Kotlin side of the FFI overhead figure (see ffi/benches/overhead.rs, same schedule): a
 *  sighting recorded through JNA on a fresh store with synchronous=NORMAL; prints median and p99. */
fun main() {
    val dir = Files.createTempDirectory("gridbook-bench").toFile()
    val gb = Gridbook.open(dir.path, OpenOptions(user = "王芳", device = "bench", durability = Durability.NORMAL))
    val grid = gb.createGrid(NewGrid("第三网格", "幸福村", "天平街道"))
    val home = gb.addHousehold(grid.id, NewHousehold("一组3号", "赵桂兰", null, listOf(), ""))
    val r = gb.addResident(home.id, NewResident("赵桂兰", null, Gender.FEMALE, "1938-02-14", Relation.HEAD, null, Registration.REGISTERED, listOf()))
    val routine = gb.addRoutine(r.id, NewRoutine(SignalKind.CURTAINS, "07:30", listOf(Day.MON, Day.TUE, Day.WED, Day.THU, Day.FRI, Day.SAT, Day.SUN), ""))
    repeat(2_000) { gb.recordSighting(Sighting(routine.id)) }
    val times = LongArray(5_000) {
        val start = System.nanoTime()
        gb.recordSighting(Sighting(routine.id))
        System.nanoTime() - start
    }.sorted()
    println("record_sighting, Kotlin via JNA: median %.1f µs, p99 %.1f µs (n=%d)".format(
        times[times.size / 2] / 1000.0, times[times.size * 99 / 100] / 1000.0, times.size))
    gb.close()
    dir.deleteRecursively()
}
