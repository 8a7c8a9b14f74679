package org.gridbook.test

import java.awt.image.BufferedImage
import java.io.File
import java.nio.file.Files
import java.util.concurrent.TimeUnit
import javax.imageio.ImageIO
import org.gridbook.core.*
import org.gridbook.ffi.*

/** A store in a temporary directory, removed when the test is done. */
class TestStore(val dir: File, val gb: Gridbook) : AutoCloseable {
    override fun close() {
        gb.close()
        dir.deleteRecursively()
    }
}

fun openStore(
    user: String = "王芳",
    device: String = "phone-1",
    configure: OpenOptions.() -> Unit = {},
): TestStore {
    val dir = Files.createTempDirectory("gridbook-store").toFile()
    val options = OpenOptions(user = user, device = device).apply(configure)
    return TestStore(dir, Gridbook.open(dir.path, options))
}

/** GB 11643: region 110101, a birth date `yyyyMMdd`, an order code whose parity is the gender. */
fun idNumber(birth: String, male: Boolean, order: Int = 1): String {
    val weights = intArrayOf(7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    val body = "110101" + birth + "%03d".format(order * 2 + if (male) 1 else 0)
    val sum = body.mapIndexed { i, c -> (c - '0') * weights[i] }.sum()
    return body + "10X98765432"[sum % 11]
}

fun newHousehold(address: String, head: String, tags: List<CareTag> = listOf()) =
    NewHousehold(address = address, headName = head, phone = null, careTags = tags, notes = "")

fun newResident(
    name: String,
    id: String?,
    relation: Relation = Relation.HEAD,
    phone: String? = null,
    tags: List<CareTag> = listOf(),
) = NewResident(
    name = name,
    idNumber = id,
    gender = null,
    birthDate = null,
    relation = relation,
    phone = phone,
    registration = Registration.REGISTERED,
    careTags = tags,
)

fun newGrid(name: String = "第三网格") = NewGrid(name = name, village = "幸福村", township = "天平街道")

val ALL_DAYS = listOf(Day.MON, Day.TUE, Day.WED, Day.THU, Day.FRI, Day.SAT, Day.SUN)

/** A real PNG, as a phone's gallery would hand it over. */
fun pngFile(dir: File, width: Int = 320, height: Int = 240, seed: Int = 1): File {
    val image = BufferedImage(width, height, BufferedImage.TYPE_INT_RGB)
    for (x in 0 until width) for (y in 0 until height) image.setRGB(x, y, (x * 7 + y * 13 + seed * 101) * 2654435)
    val file = File(dir, "photo-$seed.png")
    ImageIO.write(image, "png", file)
    return file
}

/** A UUID v7 nobody has used: an id of the right shape that names nothing. */
const val UNKNOWN_ID = "0190a000-0000-7000-8000-00000000dead"

/** `gridbook-server` on a loopback port, with its data in a temporary directory. */
class TestServer : AutoCloseable {
    private val binary = System.getProperty("gridbook.server") ?: error("run with -Dgridbook.server=<path>")
    private val data: File = Files.createTempDirectory("gridbook-server").toFile()
    private var process: Process? = null
    lateinit var url: String
        private set

    /** Registers a device and returns its token, as for an app of the previous version. */
    fun addDevice(name: String, role: String, vararg scope: String): String {
        val out = admin(listOf("device", "add", "--data", data.path, "--name", name, "--role", role, "--token") + scope)
        return out.lines().first { it.startsWith("token: ") }.removePrefix("token: ").trim()
    }

    /** Registers a device and returns the one-time code its app enrols with. */
    fun enrolmentCode(name: String, role: String, vararg scope: String): String {
        val out = admin(listOf("device", "add", "--data", data.path, "--name", name, "--role", role) + scope)
        return out.lines().first { it.startsWith("one-time code: ") }.removePrefix("one-time code: ").trim()
    }

    /** Revokes a device as `reason`, `lost` or `retired`: either way its store is wiped. */
    fun revoke(name: String, reason: String) {
        admin(listOf("device", "revoke", "--data", data.path, name, "--$reason"))
    }

    /** The server's access log as `gridbook-server audit --json` prints it, narrowed by `filters`. */
    fun audit(vararg filters: String): String = admin(listOf("audit", "--data", data.path, "--json") + filters)

    fun start(): TestServer {
        val p = ProcessBuilder(binary, "serve", "--data", data.path, "--listen", "127.0.0.1:0")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start()
        process = p
        val line = p.inputStream.bufferedReader().readLine() ?: error("gridbook-server did not start")
        url = "http://" + line.removePrefix("listening on ").trim()
        return this
    }

    private fun admin(args: List<String>): String {
        val p = ProcessBuilder(listOf(binary) + args).redirectErrorStream(true).start()
        val out = p.inputStream.bufferedReader().readText()
        check(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0) { "gridbook-server $args failed: $out" }
        return out
    }

    override fun close() {
        process?.let {
            it.destroy()
            it.waitFor(10, TimeUnit.SECONDS)
        }
        data.deleteRecursively()
    }
}
