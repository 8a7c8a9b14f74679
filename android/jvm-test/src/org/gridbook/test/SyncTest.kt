package org.gridbook.test

import java.io.File
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import kotlin.concurrent.thread
import kotlin.test.*
import kotlinx.coroutines.runBlocking
import org.gridbook.core.*
import org.gridbook.ffi.*
import org.junit.jupiter.api.Test

class SyncTest {
    @Test
    fun anEventWithPhotosTravelsFromTheGridToTheCentreAndBack(): Unit = TestServer().use { server ->
        openStore(user = "王芳", device = "grid-phone").use { member ->
            openStore(user = "中心调度", device = "centre-pc").use { centre ->
                val grid = member.gb.createGrid(newGrid())
                val home = member.gb.addHousehold(grid.id, newHousehold("3栋501", "李建国"))
                member.gb.addResident(home.id, newResident("李建国", idNumber("19480305", true)))
                val event = member.gb.reportEvent(
                    grid.id,
                    NewEvent("消防隐患", "楼道堆放杂物", "3栋二楼", null, home.id, Urgency.ROUTINE),
                )
                val photo = member.gb.attachPhoto(event.id, pngFile(member.dir).path, null, null)
                assertTrue(member.gb.syncStatus().pendingPhotoBytes > 0uL)

                val memberToken = server.addDevice("grid-phone", "grid-member", "--grid", grid.id, "--village", grid.village)
                val centreToken = server.addDevice("centre-pc", "centre")
                server.start()

                val up = runBlocking { member.gb.sync(server.url, memberToken, true) }
                assertTrue(up.changesSent > 0uL)
                assertEquals(1uL, up.photosUploaded)
                val status = member.gb.syncStatus()
                assertEquals(0uL, status.pendingChanges)
                assertEquals(0uL, status.pendingPhotoBytes)
                assertNotNull(status.lastSuccessAt)
                assertNull(status.lastError)

                runBlocking { centre.gb.sync(server.url, centreToken, true) }
                assertEquals("李建国", centre.gb.household(home.id).headName)
                assertNull(centre.gb.photo(photo.sha256), "photos come on demand, not with every sync")
                // The centre's store registered its key at its first sync: it fetches from the server it enrolled with.
                val fetched = runBlocking { centre.gb.fetchPhotoEnrolled(photo.sha256) }
                assertEquals(member.gb.photo(photo.sha256)!!.toList(), fetched.toList())
                assertEquals(fetched.toList(), centre.gb.photo(photo.sha256)!!.toList(), "kept")

                centre.gb.eventStep(event.id, StepAction.Dispatch("城管中队"), "请清理")
                runBlocking { centre.gb.sync(server.url, centreToken, true) }
                runBlocking { member.gb.sync(server.url, memberToken, true) }
                assertEquals(EventState.DISPATCHED, member.gb.event(event.id).state)
                assertEquals("中心调度", member.gb.event(event.id).steps.last().by)
            }
        }
    }

    @Test
    fun aGridTheMemberMayNotWriteIsRefusedAloneAndCanBeDiscarded(): Unit = TestServer().use { server ->
        openStore(user = "王芳", device = "grid-phone").use { member ->
            val grid = member.gb.createGrid(newGrid())
            val token = server.addDevice("grid-phone", "grid-member", "--grid", grid.id, "--village", grid.village)
            val stray = member.gb.createGrid(newGrid())
            server.start()

            runBlocking { member.gb.sync(server.url, token, true) }
            val refused = member.gb.syncStatus().refused
            assertEquals(listOf("g/${stray.id}"), refused.map { it.doc })
            assertEquals(RefusalReason.NOT_ALLOWED, refused.single().reason)
            assertEquals(0uL, member.gb.syncStatus().pendingChanges, "its own grid went up")

            member.gb.discardRefused("g/${stray.id}")
            assertTrue(member.gb.syncStatus().refused.isEmpty())
            assertEquals(listOf(grid.id), member.gb.grids().map { it.id })
            assertFailsWith<GridbookException.NotFound> { member.gb.retryRefused("g/${stray.id}") }
        }
    }

    @Test
    fun theUiThreadReadsWhileABackgroundJobSyncs(): Unit = TestServer().use { server ->
        openStore().use { s ->
            val gb = s.gb
            val grid = gb.createGrid(newGrid())
            for (i in 1..40) {
                val home = gb.addHousehold(grid.id, newHousehold("${i}号", "住户$i"))
                gb.addResident(home.id, newResident("住户$i", idNumber("19600101", i % 2 == 0, i)))
                gb.recordVisit(home.id, NewVisit(VisitKind.HOME, null, listOf("安全检查"), "", null))
            }
            val token = server.addDevice("phone-1", "grid-member", "--grid", grid.id, "--village", grid.village)
            server.start()

            val syncing = AtomicBoolean(true)
            val reads = AtomicInteger()
            val failures = CopyOnWriteArrayList<Throwable>()
            val readers = (1..3).map {
                thread {
                    try {
                        while (syncing.get() || reads.get() < 30) {
                            assertEquals(40, gb.households(grid.id, false, Page(0u, 100u)).size)
                            assertEquals(1, gb.searchResidents("住户17", grid.id, 5u).size)
                            gb.dueChecks(null, gb.today())
                            reads.incrementAndGet()
                        }
                    } catch (t: Throwable) {
                        failures.add(t)
                    }
                }
            }
            val report = try {
                runBlocking { gb.sync(server.url, token, false) }
            } finally {
                syncing.set(false)
                readers.forEach { it.join() }
            }
            assertEquals(listOf(), failures.toList())
            assertTrue(report.changesSent >= 121uL, "$report")
            assertTrue(reads.get() >= 30)
        }
    }

    @Test
    fun aLostDeviceIsWipedAtItsNextSyncAndAskedStartsOver(): Unit = TestServer().use { server ->
        openStore().use { s ->
            val gb = s.gb
            val grid = gb.createGrid(newGrid())
            val token = server.addDevice("phone-1", "grid-member", "--grid", grid.id, "--village", grid.village)
            server.start()
            runBlocking { gb.sync(server.url, token, true) }
            val home = gb.addHousehold(grid.id, newHousehold("5号", "孙丽"))
            gb.attachPhoto(gb.reportEvent(grid.id, NewEvent("消防隐患", "楼道堆放杂物", "", null, home.id, Urgency.ROUTINE)).id, pngFile(s.dir).path, null, null)
            assertFalse(gb.isWiped())

            server.revoke("phone-1", "lost")
            assertFailsWith<GridbookException.Wiped> { runBlocking { gb.sync(server.url, token, true) } }
            assertTrue(gb.isWiped())
            assertFailsWith<GridbookException.Wiped> { gb.syncStatus() }
            assertFailsWith<GridbookException.Wiped> { gb.household(home.id) }
            assertFalse(File(s.dir, "gridbook.db").exists())
            assertFalse(File(s.dir, "photos").exists())
            assertTrue(isWipedStore(s.dir.path))
            val options = OpenOptions(user = "王芳", device = "phone-1")
            assertFailsWith<GridbookException.Wiped> { Gridbook.open(s.dir.path, options) }

            // The phone goes to a new holder: asked, the directory takes a new, empty store.
            startOver(s.dir.path)
            Gridbook.open(s.dir.path, options).use { fresh -> assertTrue(fresh.grids().isEmpty()) }
        }
    }

    @Test
    fun aRetiredDeviceUploadsWhatItHadNotSentThenIsWiped(): Unit = TestServer().use { server ->
        openStore(user = "王芳", device = "grid-phone").use { member ->
            openStore(user = "中心调度", device = "centre-pc").use { centre ->
                val grid = member.gb.createGrid(newGrid())
                val memberToken = server.addDevice("grid-phone", "grid-member", "--grid", grid.id, "--village", grid.village)
                val centreToken = server.addDevice("centre-pc", "centre")
                server.start()
                runBlocking { member.gb.sync(server.url, memberToken, true) }
                val home = member.gb.addHousehold(grid.id, newHousehold("3栋501", "李建国"))

                server.revoke("grid-phone", "retired")
                assertFailsWith<GridbookException.Wiped> { runBlocking { member.gb.sync(server.url, memberToken, false) } }
                assertTrue(member.gb.isWiped())
                assertFalse(File(member.dir, "gridbook.db").exists())

                runBlocking { centre.gb.sync(server.url, centreToken, true) }
                assertEquals("李建国", centre.gb.household(home.id).headName, "its unsent work arrived first")
            }
        }
    }

    @Test
    fun aDeadServerIsATypedError(): Unit = TestServer().use { server ->
        openStore().use { s ->
            val gb = s.gb
            val grid = gb.createGrid(newGrid())
            val token = server.addDevice("phone-1", "grid-member", "--grid", grid.id, "--village", grid.village)
            server.start()
            runBlocking { gb.sync(server.url, token, true) }
            gb.addHousehold(grid.id, newHousehold("5号", "孙丽"))

            assertFailsWith<GridbookException.Network> { runBlocking { gb.sync("http://127.0.0.1:9", token, true) } }
            assertEquals(1uL, gb.syncStatus().pendingChanges, "nothing is lost when the server cannot be reached")
            assertNotNull(gb.syncStatus().lastError)
            assertFailsWith<GridbookException.InvalidInput> { runBlocking { gb.sync("ftp://server", token, true) } }
            assertFailsWith<GridbookException.InvalidInput> {
                runBlocking { gb.fetchPhoto(server.url, token, "not-a-hash") }
            }
        }
    }

    @Test
    fun aDistrictCaThatIsNotACertificateIsATypedErrorAndLosesNothing(): Unit =
        openStore(configure = { districtCa = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n" }).use { s ->
            val grid = s.gb.createGrid(newGrid())
            val e = assertFailsWith<GridbookException.InvalidInput> {
                runBlocking { s.gb.sync("https://127.0.0.1:9", "token", false) }
            }
            assertContains(e.message ?: "", "CA")
            assertEquals(grid, s.gb.grid(grid.id))
            assertTrue(s.gb.syncStatus().pendingChanges > 0uL)
        }
}
