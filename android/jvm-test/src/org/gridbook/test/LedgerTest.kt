package org.gridbook.test

import kotlin.test.*
import org.gridbook.core.*
import org.gridbook.ffi.*
import org.junit.jupiter.api.Test

class LedgerTest {
    @Test
    fun gridsHouseholdsAndResidentsAreKeptAndFound(): Unit = openStore().use { s ->
        val gb = s.gb
        val grid = gb.createGrid(newGrid())
        assertEquals(listOf(grid), gb.grids())
        assertEquals(grid, gb.grid(grid.id))

        val home = gb.addHousehold(grid.id, newHousehold("3栋2单元501", "李建国"))
        val other = gb.addHousehold(grid.id, newHousehold("1栋1单元101", "张秀英", listOf(CareTag.LIVING_ALONE)))
        assertEquals(listOf(other.id, home.id), gb.households(grid.id, false, Page(0u, 100u)).map { it.id })
        assertEquals(listOf(other.id), gb.households(grid.id, false, Page(0u, 1u)).map { it.id })

        val head = gb.addResident(home.id, newResident("李建国", idNumber("19480305", true), phone = "13800138000"))
        assertEquals(Gender.MALE, head.gender)
        assertEquals("1948-03-05", head.birthDate)
        val alone = gb.addResident(
            other.id,
            newResident("张秀英", idNumber("19420911", false), tags = listOf(CareTag.LIVING_ALONE, CareTag.ELDERLY)),
        )
        assertEquals(head, gb.resident(head.id))
        assertEquals(listOf(head), gb.residentsOf(home.id))

        assertEquals(listOf(head.id), gb.searchResidents("建国", null, 10u).map { it.id })
        assertEquals(listOf(head.id), gb.searchResidents(idNumber("19480305", true).take(10), grid.id, 10u).map { it.id })
        assertEquals(listOf(head.id), gb.searchResidents("8000", null, 10u).map { it.id })
        assertEquals(listOf(alone.id), gb.residentsWithTag(CareTag.LIVING_ALONE, 70u, grid.id).map { it.id })
        assertEquals(listOf(), gb.residentsWithTag(CareTag.LIVING_ALONE, 100u, null))
    }

    @Test
    fun editsMoveOutsAndDeathsAreRecordedWithWhoDidThem(): Unit = openStore(user = "村书记") .use { s ->
        val gb = s.gb
        val grid = gb.createGrid(newGrid())
        val home = gb.addHousehold(grid.id, newHousehold("一组12号", "王大山"))

        val phoned = gb.editHousehold(home.id, HouseholdEdit(phone = "13912345678", notes = "儿子在外地"))
        assertEquals("139****5678", phoned.phone)
        assertEquals("儿子在外地", phoned.notes)
        assertNull(gb.editHousehold(home.id, HouseholdEdit(clearPhone = true)).phone)
        assertFailsWith<GridbookException.InvalidInput> {
            gb.editHousehold(home.id, HouseholdEdit(phone = "13912345678", clearPhone = true))
        }

        val r = gb.addResident(home.id, newResident("王大山", idNumber("19500101", true)))
        val renamed = gb.editResident(r.id, ResidentEdit(name = "王大善", phone = "13700001111"))
        assertEquals("王大善", renamed.name)
        assertNull(gb.editResident(r.id, ResidentEdit(clearIdNumber = true)).idNumber)
        val child = gb.addResident(home.id, newResident("王小明", idNumber("20150606", true), Relation.CHILD))
        assertEquals(ResidentStatus.MOVED_OUT, gb.moveOutResident(child.id).status)
        val gone = gb.markDeceased(r.id)
        assertEquals(ResidentStatus.DECEASED, gone.status)
        assertNotNull(gone.statusChangedAt)

        val history = gb.residentHistory(r.id)
        assertTrue(history.any { it.field == "name" && it.value == "王大善" && it.by == "村书记" }, "$history")
        assertTrue(gb.householdHistory(home.id).any { it.field == "phone" && it.device == "phone-1" })

        assertEquals(HouseholdStatus.MOVED_OUT, gb.moveOutHousehold(home.id).status)
        assertEquals(listOf(), gb.households(grid.id, false, Page(0u, 10u)))
        assertEquals(listOf(home.id), gb.households(grid.id, true, Page(0u, 10u)).map { it.id })
        assertEquals(HouseholdStatus.MOVED_OUT, gb.household(home.id).status)
    }

    @Test
    fun badInputIsATypedErrorAndChangesNothing(): Unit = openStore().use { s ->
        val gb = s.gb
        val grid = gb.createGrid(newGrid())
        val home = gb.addHousehold(grid.id, newHousehold("3栋501", "李建国"))
        val wrongCheck = idNumber("19480305", true).dropLast(1) + "0"
        val e = assertFailsWith<GridbookException.InvalidInput> {
            gb.addResident(home.id, newResident("李建国", wrongCheck))
        }
        assertFalse(e.message!!.contains(wrongCheck), "an error never echoes the ID number: ${e.message}")
        assertFailsWith<GridbookException.InvalidInput> {
            gb.addResident(home.id, newResident("李建国", null, phone = "12345"))
        }
        assertEquals(listOf(), gb.residentsOf(home.id))

        assertFailsWith<GridbookException.NotFound> { gb.household(UNKNOWN_ID) }
        assertFailsWith<GridbookException.NotFound> { gb.addResident(UNKNOWN_ID, newResident("某人", null)) }
        // Ids, dates and times that do not parse never reach the core, and are still typed errors.
        assertFailsWith<GridbookException.InvalidInput> { gb.household("not-an-id") }
        assertFailsWith<GridbookException.InvalidInput> { gb.dueChecks(null, "2026-13-45") }
        assertFailsWith<GridbookException.InvalidInput> { Gridbook.open(s.dir.path, OpenOptions(user = "", device = "x")) }
        assertFailsWith<GridbookException.InvalidInput> {
            Gridbook.open(s.dir.path, OpenOptions(user = "王芳", device = "x", timezone = "Mars/Olympus"))
        }
    }

    @Test
    fun aPersonEnteredTwiceIsMergedAndTheirRoutinesAndVisitsFollowTheOneKept(): Unit = openStore().use { s ->
        val gb = s.gb
        val grid = gb.createGrid(newGrid())
        val home = gb.addHousehold(grid.id, newHousehold("一组3号", "张德顺"))
        val other = gb.addHousehold(grid.id, newHousehold("一组4号", "张德顺"))
        val keep = gb.addResident(home.id, newResident("张德顺", idNumber("19480305", true)))
        // Entered again without his number, with his phone, a curtain check and a visit.
        val twice = gb.addResident(
            other.id,
            newResident("张德顺", null, phone = "13912345678").copy(gender = Gender.MALE, birthDate = "1948-03-05"),
        )
        gb.addRoutine(twice.id, NewRoutine(SignalKind.CURTAINS, "07:30", ALL_DAYS, "拉开窗帘"))
        gb.recordVisit(other.id, NewVisit(VisitKind.HOME, null, listOf("安全检查"), "", null))
        val wife = gb.addResident(home.id, newResident("李秀英", idNumber("19500101", false), Relation.SPOUSE))

        assertFailsWith<GridbookException.InvalidInput> { gb.mergeResidents(keep.id, keep.id) }
        assertFailsWith<GridbookException.InvalidInput> { gb.mergeResidents(keep.id, wife.id) }
        assertFailsWith<GridbookException.NotFound> { gb.mergeResidents(keep.id, UNKNOWN_ID) }

        val kept = gb.mergeResidents(keep.id, twice.id)
        assertEquals("139****5678", kept.phone)
        assertNull(kept.mergedInto)
        assertEquals(keep.id, gb.resident(twice.id).mergedInto)
        assertEquals(listOf(keep.id), gb.searchResidents("张德顺", null, 10u).map { it.id })
        assertEquals(listOf(), gb.residentsOf(other.id))
        assertEquals(listOf(keep.id), gb.routinesOf(keep.id).map { it.residentId })
        assertEquals(1, gb.visitsOfResident(keep.id).size)
        assertTrue(gb.residentHistory(keep.id).any { it.record == "resident:${twice.id}" && it.field == "merged_into" })
        assertFailsWith<GridbookException.InvalidInput> { gb.mergeResidents(keep.id, twice.id) }
    }

    @Test
    fun idNumbersAndPhonesAreCheckedOnTheirOwn() {
        val info = parseIdNumber(idNumber("19420911", false).lowercase())
        assertEquals("1942-09-11", info.birthDate)
        assertEquals(Gender.FEMALE, info.gender)
        assertFalse(info.convertedFrom15)
        val firstGeneration = parseIdNumber("\u3000１１０１０５４９１２３１００２")
        assertEquals("11010519491231002X", firstGeneration.normalized)
        assertTrue(firstGeneration.convertedFrom15)
        assertFailsWith<GridbookException.InvalidInput> { parseIdNumber("11010119420911") }
        assertFailsWith<GridbookException.InvalidInput> { parseIdNumber("000105194912310021") }
        assertEquals("13800138000", normalizePhone("13800138000"))
        assertFailsWith<GridbookException.InvalidInput> { normalizePhone("0531-1234567") }
    }
}
