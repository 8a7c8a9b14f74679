package org.gridbook.test

import java.io.File
import kotlin.test.*
import org.gridbook.core.*
import org.gridbook.ffi.*
import org.junit.jupiter.api.Test

class EventsTest {
    private fun report(gb: Gridbook, grid: Grid, urgency: Urgency = Urgency.ROUTINE) = gb.reportEvent(
        grid.id,
        NewEvent("安全隐患", "拆迁区有口井没盖", "在老粮站后面", Location(36.19, 117.12, 8.0), null, urgency),
    )

    @Test
    fun anEventGoesThroughItsStepsAndRefusesOnesOutOfOrder(): Unit = openStore().use { s ->
        val gb = s.gb
        val grid = gb.createGrid(newGrid())
        val event = report(gb, grid)
        assertEquals(EventState.REPORTED, event.state)
        assertEquals(listOf(event.id), gb.openEvents(grid.id, EventState.REPORTED).map { it.id })

        assertFailsWith<GridbookException.StepOutOfOrder> { gb.eventStep(event.id, StepAction.Accept, "") }
        assertEquals(EventState.DISPATCHED, gb.eventStep(event.id, StepAction.Dispatch("市政维修"), "请尽快处理").state)
        assertEquals(EventState.ACCEPTED, gb.eventStep(event.id, StepAction.Accept, "").state)
        assertEquals(EventState.RESOLVED, gb.eventStep(event.id, StepAction.Resolve, "已加盖").state)
        assertFailsWith<GridbookException.InvalidInput> {
            gb.eventStep(event.id, StepAction.Evaluate(Evaluation(6u, 5u, 5u, 5u, "")), "")
        }
        val rated = gb.eventStep(event.id, StepAction.Evaluate(Evaluation(5u, 4u, 5u, 4u, "处理及时")), "")
        assertEquals(EventState.EVALUATED, rated.state)
        val closed = gb.eventStep(event.id, StepAction.Close, "")
        assertEquals(EventState.CLOSED, closed.state)
        assertEquals(5, closed.steps.size)
        assertEquals("市政维修", closed.department)
        assertEquals(closed, gb.event(event.id))
        assertEquals(listOf(), gb.openEvents(null, null))
        assertFailsWith<GridbookException.NotFound> { gb.event(UNKNOWN_ID) }
    }

    @Test
    fun photosAreCheckedShrunkAndStoredOnce(): Unit = openStore(configure = { photoLongEdge = 160u }).use { s ->
        val gb = s.gb
        val event = report(gb, gb.createGrid(newGrid()))
        val png = pngFile(s.dir)
        val photo = gb.attachPhoto(event.id, png.path, 1_764_000_000_000L, Location(36.19, 117.12, 5.0))
        assertEquals(160u, photo.width)
        assertEquals(120u, photo.height)
        assertEquals(1_764_000_000_000L, photo.takenAt)
        val again = gb.attachPhoto(event.id, png.path, null, null)
        assertEquals(photo.sha256, again.sha256)
        val stored = gb.photo(photo.sha256)!!
        assertTrue(stored.isNotEmpty() && stored.size == photo.bytes.toInt())
        assertEquals(2, gb.event(event.id).photos.size)

        val text = File(s.dir, "not-a-photo.jpg").apply { writeText("这不是照片") }
        assertFailsWith<GridbookException.NotAnImage> { gb.attachPhoto(event.id, text.path, null, null) }
        assertFailsWith<GridbookException.Storage> { gb.attachPhoto(event.id, File(s.dir, "missing.png").path, null, null) }
        assertNull(gb.photo("0".repeat(64)))
        assertFailsWith<GridbookException.InvalidInput> { gb.photo("not-a-hash") }
    }

    @Test
    fun anUrgentEventNotAcceptedInTimeIsOverdue(): Unit = openStore(configure = { urgentResponseMinutes = 0u }).use { s ->
        val gb = s.gb
        val grid = gb.createGrid(newGrid())
        val urgent = report(gb, grid, Urgency.URGENT)
        Thread.sleep(5)
        assertEquals(listOf(urgent.id), gb.overdueEvents(grid.id).map { it.id })
        gb.eventStep(urgent.id, StepAction.SolveOnSpot, "现场已处理")
        assertEquals(listOf(), gb.overdueEvents(null))
    }
}
