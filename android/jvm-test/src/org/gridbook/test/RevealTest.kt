package org.gridbook.test

import kotlin.test.*
import kotlinx.coroutines.runBlocking
import org.gridbook.core.*
import org.gridbook.ffi.*
import org.junit.jupiter.api.Test

class RevealTest {
    @Test
    fun numbersComeMaskedAndARevealNeedsAReasonAndIsLogged(): Unit = openStore(user = "刘敏", device = "village-pc").use { s ->
        val gb = s.gb
        val grid = gb.createGrid(newGrid())
        val home = gb.addHousehold(grid.id, newHousehold("一组3号", "张德顺"))
        gb.editHousehold(home.id, HouseholdEdit(phone = "13900002222"))
        val number = idNumber("19480305", true)
        val elder = gb.addResident(home.id, newResident("张德顺", number, phone = "13812341111"))

        val masked = number.take(4) + "*".repeat(10) + number.takeLast(4)
        assertEquals(masked, elder.idNumber)
        assertEquals("138****1111", elder.phone)
        assertEquals(elder, gb.resident(elder.id))
        assertEquals(listOf(elder), gb.residentsOf(home.id))
        assertEquals(listOf(elder), gb.searchResidents(number, null, 10u), "found by the full number, shown masked")
        assertEquals("139****2222", gb.household(home.id).phone)

        assertFailsWith<GridbookException.InvalidInput> { gb.revealResident(elder.id, " ") }
        assertEquals(listOf(), gb.accessLog(), "nothing revealed, nothing logged")
        assertFailsWith<GridbookException.NotFound> { gb.revealResident(UNKNOWN_ID, "核对") }

        val full = gb.revealResident(elder.id, "办理高龄补贴")
        assertEquals(number, full.idNumber)
        assertEquals("13812341111", full.phone)
        assertEquals("13900002222", gb.revealHousehold(home.id, "通知停水").phone)

        val log = gb.accessLog()
        assertEquals(listOf(AccessAction.REVEAL_HOUSEHOLD, AccessAction.REVEAL_RESIDENT), log.map { it.action })
        val entry = log.last()
        assertEquals(listOf(elder.id), entry.records)
        assertEquals(listOf("id_number", "phone"), entry.fields)
        assertEquals("办理高龄补贴", entry.reason)
        assertEquals(grid.id, entry.gridId)
        assertEquals("刘敏" to "village-pc", entry.by to entry.device)
        assertFalse(entry.verified, "no server has vouched for this store yet")
    }

    @Test
    fun aRevealSyncsAndTheServersAuditNamesTheEnrolledDevice(): Unit = TestServer().use { server ->
        openStore(user = "某人", device = "pc").use { s ->
            val gb = s.gb
            val grid = gb.createGrid(newGrid())
            val home = gb.addHousehold(grid.id, newHousehold("一组3号", "张德顺"))
            val elder = gb.addResident(home.id, newResident("张德顺", idNumber("19480305", true)))
            val token = server.addDevice("village-pc", "secretary", "--village", grid.village, "--holder", "刘敏")
            server.start()
            runBlocking { gb.sync(server.url, token, true) }

            gb.revealResident(elder.id, "核对低保")
            runBlocking { gb.sync(server.url, token, true) }
            val own = gb.accessLog().single()
            assertTrue(own.verified)
            assertEquals("刘敏" to "village-pc", own.by to own.device)

            val audit = server.audit("--resident", elder.id)
            assertTrue(audit.contains("\"device\": \"village-pc\"") && audit.contains("核对低保"), audit)
            assertFalse(server.audit("--device", "pc").contains("核对低保"), "not the name the app was opened with")
        }
    }
}
