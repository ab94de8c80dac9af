package io.edgetunnel.e2e;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/** What the poms say the images are: the platforms to publish, each service's JVM options. */
public final class ImagePom {

    private ImagePom() {}

    /** {@code os/architecture} of every platform in the parent pom's Jib {@code <from><platforms>}. */
    static List<String> platforms() throws Exception {
        Document pom = read(Path.of("..", "pom.xml"));
        NodeList nodes = (NodeList) XPathFactory.newInstance()
                .newXPath()
                .evaluate(
                        "//*[local-name()='plugin'][*[local-name()='artifactId']='jib-maven-plugin']"
                                + "/*[local-name()='configuration']/*[local-name()='from']"
                                + "/*[local-name()='platforms']/*[local-name()='platform']",
                        pom,
                        XPathConstants.NODESET);
        List<String> platforms = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) {
            Node platform = nodes.item(i);
            platforms.add(child(platform, "os") + "/" + child(platform, "architecture"));
        }
        return platforms;
    }

    /** The module's {@code image.java-tool-options} property: its image's JAVA_TOOL_OPTIONS. */
    public static String javaToolOptions(String module) throws Exception {
        return property(module, "image.java-tool-options");
    }

    /** A property of the module's pom, empty when it has none. */
    static String property(String module, String name) throws Exception {
        Document pom = read(Path.of("..", module, "pom.xml"));
        return XPathFactory.newInstance()
                .newXPath()
                .evaluate("/*[local-name()='project']/*[local-name()='properties']/*[local-name()='" + name + "']", pom)
                .trim();
    }

    private static String child(Node node, String name) {
        for (Node c = node.getFirstChild(); c != null; c = c.getNextSibling()) {
            if (name.equals(c.getLocalName()) || name.equals(c.getNodeName())) {
                return c.getTextContent().trim();
            }
        }
        throw new AssertionError("<" + name + "> missing in a Jib <platform>");
    }

    private static Document read(Path pom) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        return factory.newDocumentBuilder().parse(pom.toFile());
    }
}
