package org.gridbook.test

import java.io.File
import java.nio.file.Files
import java.security.MessageDigest
import kotlin.test.*
import org.gridbook.core.*
import org.gridbook.ffi.*
import org.junit.jupiter.api.Test

class EncryptionTest {
    private fun filesHolding(dir: File, text: String): List<String> {
        val needle = text.toByteArray(Charsets.UTF_8)
        return dir.walkTopDown().filter { it.isFile }.filter { file ->
            val bytes = file.readBytes()
            (0..bytes.size - needle.size).any { i -> needle.indices.all { bytes[i + it] == needle[it] } }
        }.map { it.name }.toList()
    }

    @Test
    fun aStoreOpensOnlyWithItsKeyAndNoFileShowsAName(): Unit {
        val dir = Files.createTempDirectory("gridbook-store").toFile()
        try {
            val key = newStoreKey()
            assertEquals(32, key.size)
            val options = OpenOptions(user = "王芳", device = "phone-1", key = key)
            val gb = Gridbook.open(dir.path, options)
            val grid = gb.createGrid(newGrid())
            val home = gb.addHousehold(grid.id, newHousehold("一组7号", "欧阳秀兰"))
            gb.close()
            assertEquals(listOf(), filesHolding(dir, "欧阳秀兰"))

            assertFailsWith<GridbookException.Locked> { Gridbook.open(dir.path, options.copy(key = null)) }
            assertFailsWith<GridbookException.Locked> { Gridbook.open(dir.path, options.copy(key = newStoreKey())) }
            assertFailsWith<GridbookException.InvalidInput> { Gridbook.open(dir.path, options.copy(key = ByteArray(16))) }

            // The key changes in one call; the old one opens nothing afterwards.
            val reopened = Gridbook.open(dir.path, options)
            val newKey = newStoreKey()
            reopened.rekey(newKey)
            assertEquals("欧阳秀兰", reopened.household(home.id).headName)
            reopened.close()
            assertFailsWith<GridbookException.Locked> { Gridbook.open(dir.path, options) }
            Gridbook.open(dir.path, options.copy(key = newKey)).use { assertEquals(home, it.household(home.id)) }
        } finally {
            dir.deleteRecursively()
        }
    }

    @Test
    fun anEncryptedStoresPhotoIsReadAsBytesAndItsFileIsSealed(): Unit {
        val dir = Files.createTempDirectory("gridbook-store").toFile()
        try {
            val gb = Gridbook.open(dir.path, OpenOptions(user = "王芳", device = "phone-1", key = newStoreKey()))
            val event = gb.reportEvent(gb.createGrid(newGrid()).id, NewEvent("市政设施", "路灯不亮", "", null, null, Urgency.ROUTINE))
            val photo = gb.attachPhoto(event.id, pngFile(dir).path, null, null)
            val jpeg = gb.photo(photo.sha256)!!
            val hex = MessageDigest.getInstance("SHA-256").digest(jpeg).joinToString("") { "%02x".format(it) }
            assertEquals(photo.sha256, hex, "the JPEG the event names")
            val file = File(dir, "photos/${photo.sha256.take(2)}/${photo.sha256}.jpg")
            val sealed = file.readBytes()
            assertEquals("GBPHOTO1", String(sealed.copyOfRange(0, 8), Charsets.US_ASCII))
            sealed[sealed.size / 2] = (sealed[sealed.size / 2].toInt() xor 1).toByte()
            file.writeBytes(sealed)
            assertFailsWith<GridbookException.Corrupt> { gb.photo(photo.sha256) }
            gb.close()
        } finally {
            dir.deleteRecursively()
        }
    }
}
