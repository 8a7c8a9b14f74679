package org.gridbook.test

import kotlin.test.*
import kotlinx.coroutines.runBlocking
import org.gridbook.core.*
import org.gridbook.ffi.*
import org.junit.jupiter.api.Test

class ErasureTest {
    @Test
    fun anErasureNeedsAReasonAndWaitsForTheServer(): Unit = openStore(user = "刘敏", device = "village-pc").use { s ->
        val gb = s.gb
        val grid = gb.createGrid(newGrid())
        val home = gb.addHousehold(grid.id, newHousehold("一组3号", "张德顺"))
        val elder = gb.addResident(home.id, newResident("张德顺", idNumber("19480305", true)))

        assertFailsWith<GridbookException.InvalidInput> { gb.eraseResident(elder.id, " ") }
        assertFailsWith<GridbookException.InvalidInput> { gb.eraseResident(elder.id, "因".repeat(200)) }
        assertFailsWith<GridbookException.NotFound> { gb.eraseResident(UNKNOWN_ID, "本人申请") }
        assertFailsWith<GridbookException.InvalidInput> { gb.erasureState("not an id") }
        assertEquals(ErasureState.NotRequested, gb.erasureState(elder.id))

        gb.eraseResident(elder.id, "本人申请删除")
        gb.eraseHousehold(home.id, "整户迁出并申请删除")
        assertEquals(ErasureState.Requested, gb.erasureState(elder.id))
        assertEquals(ErasureState.Requested, gb.erasureState(home.id))
        assertEquals("张德顺", gb.resident(elder.id).name, "kept until the server carries it out")
    }

    @Test
    fun theSecretarysErasureIsCarriedOutAndAGridMembersIsRefused(): Unit = TestServer().use { server ->
        openStore(user = "王芳", device = "grid-phone").use { member ->
            openStore(user = "刘敏", device = "village-pc").use { secretary ->
                val grid = member.gb.createGrid(newGrid())
                val home = member.gb.addHousehold(grid.id, newHousehold("一组3号", "张德顺"))
                val elder = member.gb.addResident(home.id, newResident("张德顺", idNumber("19480305", true)))
                val wife = member.gb.addResident(home.id, newResident("王秀英", idNumber("19500101", false)))
                val memberToken = server.addDevice("grid-phone", "grid-member", "--grid", grid.id, "--village", grid.village)
                val secretaryToken = server.addDevice("village-pc", "secretary", "--village", grid.village)
                server.start()
                runBlocking { member.gb.sync(server.url, memberToken, true) }
                runBlocking { secretary.gb.sync(server.url, secretaryToken, true) }

                member.gb.eraseResident(wife.id, "网格员无权删除")
                runBlocking { member.gb.sync(server.url, memberToken, true) }
                assertEquals(ErasureState.Refused(RefusalReason.NOT_ALLOWED), member.gb.erasureState(wife.id))
                assertEquals("王秀英", member.gb.resident(wife.id).name)

                secretary.gb.eraseResident(elder.id, "本人申请删除")
                val done = runBlocking { secretary.gb.sync(server.url, secretaryToken, true) }
                assertEquals(1uL, done.erased)
                assertEquals(ErasureState.Erased, secretary.gb.erasureState(elder.id))
                assertFailsWith<GridbookException.Erased> { secretary.gb.resident(elder.id) }

                val heard = runBlocking { member.gb.sync(server.url, memberToken, true) }
                assertEquals(1uL, heard.erased)
                assertFailsWith<GridbookException.Erased> { member.gb.resident(elder.id) }
                assertEquals(listOf(wife.id), member.gb.residentsOf(home.id).map { it.id })
                assertEquals(listOf(), member.gb.searchResidents("张德顺", null, 10u))
            }
        }
    }
}
