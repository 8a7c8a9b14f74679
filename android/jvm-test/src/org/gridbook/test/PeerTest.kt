package org.gridbook.test

import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.test.*
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import org.gridbook.core.*
import org.gridbook.ffi.*
import org.junit.jupiter.api.Test

/** One end of an in-memory pipe, as an app's Bluetooth socket would be: blocking reads and writes. */
class QueuePipe(private val incoming: LinkedBlockingQueue<ByteArray>, private val outgoing: LinkedBlockingQueue<ByteArray>) : PeerPipe {
    private var pending = ByteArray(0)

    override fun read(max: UInt): ByteArray {
        if (pending.isEmpty()) {
            // A peer that has gone quiet for this long has closed, as far as a test is concerned.
            pending = incoming.poll(10, TimeUnit.SECONDS) ?: return ByteArray(0)
        }
        val n = minOf(max.toInt(), pending.size)
        return pending.copyOfRange(0, n).also { pending = pending.copyOfRange(n, pending.size) }
    }

    override fun write(bytes: ByteArray): Boolean = outgoing.offer(bytes)

    companion object {
        fun pair(): Pair<QueuePipe, QueuePipe> {
            val ab = LinkedBlockingQueue<ByteArray>()
            val ba = LinkedBlockingQueue<ByteArray>()
            return QueuePipe(ba, ab) to QueuePipe(ab, ba)
        }
    }
}

class PeerTest {
    private fun exchange(a: Gridbook, aGrids: List<String>, b: Gridbook, bGrids: List<String>): Pair<PeerReport, PeerReport> {
        val (pa, pb) = QueuePipe.pair()
        return runBlocking {
            val x = async { a.exchangeWithPeer(pa, aGrids) }
            val y = async { b.exchangeWithPeer(pb, bGrids) }
            x.await() to y.await()
        }
    }

    @Test
    fun twoEnrolledPhonesWithoutSignalShareTheGridsBothCertificatesCover(): Unit = TestServer().use { server ->
        server.start()
        openStore(user = "王芳", device = "phone-1").use { wang ->
            openStore(user = "李强", device = "phone-2").use { li ->
                val shared = wang.gb.createGrid(newGrid("第三网格"))
                val mine = wang.gb.createGrid(newGrid("第四网格"))
                // One phone enrols with the centre's one-time code, the other syncs by token.
                val code = server.enrolmentCode("phone-1", "grid-member", "--grid", shared.id, "--grid", mine.id, "--village", shared.village)
                val enrolled = runBlocking { wang.gb.enrol(server.url, code) }
                assertEquals("phone-1", enrolled.device)
                assertEquals(setOf(shared.id, mine.id), enrolled.grids.toSet())
                runBlocking { wang.gb.syncEnrolled(false) }
                val token = server.addDevice("phone-2", "grid-member", "--grid", shared.id)
                runBlocking { li.gb.sync(server.url, token, false) }
                assertEquals("phone-2", li.gb.enrolment()?.device)
                // Then, with no signal, Wang records two households.
                val home = wang.gb.addHousehold(shared.id, newHousehold("5栋102", "陈秀英"))
                wang.gb.addHousehold(mine.id, newHousehold("8栋301", "周建华"))

                // Li asks for both grids; its certificate covers the shared one only.
                val (sent, received) = exchange(wang.gb, listOf(shared.id, mine.id), li.gb, listOf(shared.id, mine.id))
                assertTrue(sent.changesSent > 0uL)
                assertEquals(sent.changesSent, received.changesReceived)
                assertEquals("陈秀英", li.gb.household(home.id).headName)
                assertEquals(1, li.gb.grids().size, "the grid Li's certificate does not cover stays with Wang")

                li.gb.editHousehold(home.id, HouseholdEdit(notes = "独居老人，每周二探访"))
                wang.gb.editHousehold(home.id, HouseholdEdit(phone = "13800138000"))
                exchange(wang.gb, listOf(shared.id, mine.id), li.gb, listOf(shared.id))
                for (gb in listOf(wang.gb, li.gb)) {
                    val merged = gb.household(home.id)
                    assertEquals("独居老人，每周二探访", merged.notes)
                    assertEquals("138****8000", merged.phone)
                }
                assertTrue(li.gb.syncStatus().pendingChanges > 0uL, "what came from the peer goes on to the server")
                runBlocking { li.gb.sync(server.url, token, false) }
                openStore(user = "中心", device = "centre-pc").use { centre ->
                    runBlocking { centre.gb.sync(server.url, server.addDevice("centre-pc", "centre"), false) }
                    assertEquals("138****8000", centre.gb.household(home.id).phone, "Li carried Wang's work, with Wang's proof")
                }
            }
        }
    }

    @Test
    fun aStoreThatIsNotEnrolledCannotExchange(): Unit = openStore().use { s ->
        val grid = s.gb.createGrid(newGrid())
        val (pa, _) = QueuePipe.pair()
        assertFailsWith<GridbookException.NotAllowed> { runBlocking { s.gb.exchangeWithPeer(pa, listOf(grid.id)) } }
    }

    @Test
    fun aPipeThatClosesMidExchangeIsANetworkErrorAndLosesNothing(): Unit = TestServer().use { server ->
        server.start()
        openStore().use { s -> closedPipe(server, s) }
    }

    private fun closedPipe(server: TestServer, s: TestStore) {
        val grid = s.gb.createGrid(newGrid())
        val home = s.gb.addHousehold(grid.id, newHousehold("1号", "孙丽"))
        val token = server.addDevice("phone-1", "grid-member", "--grid", grid.id, "--village", grid.village)
        runBlocking { s.gb.sync(server.url, token, false) }
        val closed = object : PeerPipe {
            override fun read(max: UInt) = ByteArray(0)
            override fun write(bytes: ByteArray) = false
        }
        assertFailsWith<GridbookException.Network> { runBlocking { s.gb.exchangeWithPeer(closed, listOf(grid.id)) } }
        assertEquals("孙丽", s.gb.household(home.id).headName)
    }
}
