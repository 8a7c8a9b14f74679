package org.gridbook.test

import kotlin.test.*
import org.gridbook.core.*
import org.gridbook.ffi.*
import org.junit.jupiter.api.Test

class ChecksTest {
    private fun livingAlone(gb: Gridbook): Pair<Grid, Resident> {
        val grid = gb.createGrid(newGrid())
        val home = gb.addHousehold(grid.id, newHousehold("一组3号", "赵桂兰", listOf(CareTag.LIVING_ALONE)))
        val r = gb.addResident(home.id, newResident("赵桂兰", idNumber("19380214", false), tags = listOf(CareTag.LIVING_ALONE)))
        return grid to r
    }

    @Test
    fun aDayOfCurtainChecksGoesFromMissedToSeenAndFollowedUp(): Unit = openStore().use { s ->
        val gb = s.gb
        val (grid, r) = livingAlone(gb)
        // Deadlines at either end of the district's day: one has passed, one has not.
        val early = gb.addRoutine(r.id, NewRoutine(SignalKind.CURTAINS, "00:00", ALL_DAYS, "拉开窗帘"))
        val late = gb.addRoutine(r.id, NewRoutine(SignalKind.LIGHT, "23:59:59", ALL_DAYS, "开灯"))
        assertEquals("23:59:59", late.deadline)
        assertEquals(early, gb.routine(early.id))
        assertEquals(setOf(early.id, late.id), gb.routinesOf(r.id).map { it.id }.toSet())

        val today = gb.today()
        val due = gb.dueChecks(grid.id, today).associateBy { it.routineId }
        assertEquals(CheckState.Missed, due.getValue(early.id).state)
        assertEquals(CheckState.Waiting, due.getValue(late.id).state)
        assertEquals("赵桂兰", due.getValue(early.id).residentName)

        val seen = gb.recordSighting(Sighting(late.id, note = "灯亮了"))
        assertEquals(today, seen.day)
        assertEquals(today, gb.localDay(seen.at))
        gb.recordFollowUp(FollowUp(early.id, today, Outcome.ALL_WELL, "敲门确认，老人在家"))
        val after = gb.dueChecks(null, today).associateBy { it.routineId }
        val followed = after.getValue(early.id).state as CheckState.FollowedUp
        assertEquals(Outcome.ALL_WELL, followed.outcome)
        assertEquals("王芳", followed.by)
        assertTrue(after.getValue(late.id).state is CheckState.Seen)

        val paused = gb.editRoutine(early.id, RoutineEdit(signal = null, deadline = null, days = null, active = false, note = null))
        assertFalse(paused.active)
        assertEquals(listOf(late.id), gb.dueChecks(grid.id, today).map { it.routineId })
    }

    @Test
    fun checksRefuseWhatCannotBe(): Unit = openStore().use { s ->
        val gb = s.gb
        val (_, r) = livingAlone(gb)
        assertFailsWith<GridbookException.InvalidInput> { gb.addRoutine(r.id, NewRoutine(SignalKind.CURTAINS, "7:30pm", ALL_DAYS, "")) }
        assertFailsWith<GridbookException.InvalidInput> { gb.addRoutine(r.id, NewRoutine(SignalKind.CURTAINS, "07:30", listOf(), "")) }
        val routine = gb.addRoutine(r.id, NewRoutine(SignalKind.PHONE_CHECK_IN, "07:30", listOf(Day.MON, Day.MON), ""))
        assertEquals(listOf(Day.MON), routine.days)
        assertFailsWith<GridbookException.InvalidInput> { gb.recordSighting(Sighting(routine.id, day = "2999-01-01")) }
        assertFailsWith<GridbookException.NotFound> { gb.recordSighting(Sighting(UNKNOWN_ID)) }
    }

    @Test
    fun visitsCountTowardsCoverage(): Unit = openStore().use { s ->
        val gb = s.gb
        val grid = gb.createGrid(newGrid())
        val visited = gb.addHousehold(grid.id, newHousehold("2栋101", "刘强"))
        val notYet = gb.addHousehold(grid.id, newHousehold("2栋102", "陈静"))
        val visit = gb.recordVisit(
            visited.id,
            NewVisit(VisitKind.FOLLOW_UP, null, listOf("安全检查", "反诈宣传"), "一切正常", Satisfaction.VERY_SATISFIED),
        )
        assertEquals(listOf(visit), gb.visitsOf(visited.id))
        val today = gb.today()
        val coverage = gb.coverage(grid.id, today, today)
        assertEquals(2u, coverage.households)
        assertEquals(1u, coverage.visited)
        val last = gb.lastVisits(grid.id).associateBy { it.householdId }
        assertEquals(visit.at, last.getValue(visited.id).lastVisitAt)
        assertEquals(VisitKind.FOLLOW_UP, last.getValue(visited.id).lastVisitKind)
        assertNull(last.getValue(notYet.id).lastVisitAt)
        assertFailsWith<GridbookException.NotFound> {
            gb.recordVisit(UNKNOWN_ID, NewVisit(VisitKind.PHONE, null, listOf(), "", null))
        }
    }
}
