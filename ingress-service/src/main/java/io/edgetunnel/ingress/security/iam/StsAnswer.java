package io.edgetunnel.ingress.security.iam;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Optional;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.ErrorHandler;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

/**
 * STS's answer to the {@code GetCallerIdentity} the ingress sent for an agent: the XML parsed with
 * DOCTYPEs refused (no entities, no external DTDs), exactly one {@code Arn}, {@code Account} and
 * {@code UserId} in the STS namespace, the caller an assumed role.
 */
final class StsAnswer {

    static final String STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";

    private StsAnswer() {}

    /** The caller of a 200 answer; {@link IdentityRejection} when it is not an assumed role's. */
    static IamIdentity caller(byte[] xml) {
        Document document = parse(xml).orElseThrow(() -> CallerIdentityVerifier.reject("STS answer is not well-formed XML"));
        Element root = document.getDocumentElement();
        if (!"GetCallerIdentityResponse".equals(root.getLocalName()) || !STS_NAMESPACE.equals(root.getNamespaceURI())) {
            throw CallerIdentityVerifier.reject("STS answer is not a GetCallerIdentityResponse");
        }
        String arn = single(root, "Arn");
        String account = single(root, "Account");
        single(root, "UserId");
        String[] parts = arn.split(":", 6);
        if (parts.length != 6 || !"arn".equals(parts[0]) || !"sts".equals(parts[2]) || !account.equals(parts[4])) {
            throw CallerIdentityVerifier.reject("caller " + arn + " (expected: arn:PARTITION:sts::" + account + ":assumed-role/ROLE/SESSION)");
        }
        String[] resource = parts[5].split("/", -1);
        if (resource.length != 3 || !"assumed-role".equals(resource[0]) || resource[1].isEmpty() || resource[2].isEmpty()) {
            throw CallerIdentityVerifier.reject("caller " + arn + " is not an assumed role (expected: an ECS task role session)");
        }
        String roleArn = "arn:" + parts[1] + ":iam::" + account + ":role/" + resource[1];
        return new IamIdentity(account, arn, roleArn, resource[2], "");
    }

    private static String single(Element root, String name) {
        NodeList nodes = root.getElementsByTagNameNS(STS_NAMESPACE, name);
        if (nodes.getLength() != 1) {
            throw CallerIdentityVerifier.reject("STS answer has " + nodes.getLength() + " " + name + " elements (expected: exactly 1)");
        }
        String value = nodes.item(0).getTextContent().strip();
        if (value.isEmpty()) {
            throw CallerIdentityVerifier.reject("STS answer has an empty " + name);
        }
        return value;
    }

    static Optional<String> errorCode(byte[] xml) {
        return parse(xml).map(d -> d.getElementsByTagNameNS("*", "Code"))
                .filter(n -> n.getLength() == 1)
                .map(n -> n.item(0).getTextContent().strip())
                .filter(code -> code.matches("[A-Za-z.]{1,64}"));
    }

    /** DOCTYPE refused outright (no entities, no external DTDs), secure processing on. */
    static Optional<Document> parse(byte[] xml) {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setNamespaceAware(true);
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            factory.setFeature("http://xml.org/sax/features/external-general-entities", false);
            factory.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            factory.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
            factory.setXIncludeAware(false);
            factory.setExpandEntityReferences(false);
            DocumentBuilder builder = factory.newDocumentBuilder();
            builder.setErrorHandler(SILENT);
            return Optional.of(builder.parse(new ByteArrayInputStream(xml)));
        } catch (ParserConfigurationException | SAXException | IOException e) {
            return Optional.empty();
        }
    }

    private static final ErrorHandler SILENT = new ErrorHandler() {
        @Override
        public void warning(SAXParseException e) {}

        @Override
        public void error(SAXParseException e) throws SAXException {
            throw e;
        }

        @Override
        public void fatalError(SAXParseException e) throws SAXException {
            throw e;
        }
    };
}
