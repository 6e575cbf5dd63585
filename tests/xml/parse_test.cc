// Domain-level parsing: the document, the <domain> basics and the
// domain-level <seclabel> rules of docs/labels.md ("Domain XML rules"), each with its message.
#include <fstream>

#include "tests/core/hostile_files.h"
#include "xml/input_check.h"
#include "xml_test_util.h"

namespace seclabel {
namespace {

using testing::domainXml;

std::string seclabelXml(const std::string& seclabels) { return domainXml(seclabels); }

// ---- the document ------------------------------------------------------------

TEST(ParseDocument, RejectsEmptyInput) {
  EXPECT_INVALID_INPUT(parseDomainXml(""), "/: the document is empty");
  EXPECT_INVALID_INPUT(parseDomainXml(" \n\t"), "/: the document is empty");
}

TEST(ParseDocument, RejectsDocumentWithOnlyAComment) {
  EXPECT_INVALID_INPUT(parseDomainXml("<!-- nothing -->"), "the document is empty");
}

TEST(ParseDocument, RejectsMalformedXmlWithLine) {
  EXPECT_INVALID_INPUT(parseDomainXml("<domain type='kvm'>\n<name>x</nam>\n</domain>"),
                       "line 2: malformed XML:");
}

TEST(ParseDocument, RejectsOtherRootElement) {
  EXPECT_INVALID_INPUT(parseDomainXml("<network><name>x</name></network>"),
                       "/: root element is <network>, expected <domain>");
}

TEST(ParseDocument, RejectsNamespacedRoot) {
  EXPECT_INVALID_INPUT(parseDomainXml("<v:domain xmlns:v='urn:x' type='kvm'><name>x</name></v:domain>"),
                       "root element is <v:domain>, expected <domain>");
}

TEST(ParseDocument, RejectsTwoRootElements) {
  EXPECT_INVALID_INPUT(parseDomainXml("<domain type='kvm'><name>a</name></domain><domain/>"),
                       "/: more than one root element");
}

TEST(ParseDocument, RejectsTextOutsideRoot) {
  EXPECT_INVALID_INPUT(parseDomainXml("<domain type='kvm'><name>a</name></domain>junk"),
                       "/: text outside the root element");
}

TEST(ParseDocument, RejectsDoctypeSoNoEntityIsEverExpanded) {
  EXPECT_INVALID_INPUT(
      parseDomainXml("<!DOCTYPE d [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;'>]>\n"
                     "<domain type='kvm'><name>&b;</name></domain>"),
      "line 1: document type declarations (DOCTYPE, ENTITY) are not allowed");
}

TEST(ParseDocument, IgnoresDoctypeTextInsideComment) {
  auto domain = parseDomainXml("<!-- <!DOCTYPE x> & -->\n<domain type='kvm'><name>a</name></domain>");
  EXPECT_EQ(domain.name, "a");
}

TEST(ParseDocument, RejectsUndefinedEntity) {
  EXPECT_INVALID_INPUT(parseDomainXml("<domain type='kvm'><name>&ent;</name></domain>"),
                       "line 1: entity 'ent' is not defined");
}

TEST(ParseDocument, RejectsBareAmpersand) {
  EXPECT_INVALID_INPUT(parseDomainXml("<domain type='kvm'><name>a&b</name></domain>"),
                       "'&' must start an entity or character reference (write &amp;)");
}

TEST(ParseDocument, ExpandsPredefinedEntitiesAndCharacterReferences) {
  auto domain = parseDomainXml("<domain type='kvm'><name>a&amp;b&#x41;&#66;&lt;</name></domain>");
  EXPECT_EQ(domain.name, "a&bAB<");
}

TEST(ParseDocument, RejectsCharacterReferenceToControlCharacter) {
  EXPECT_INVALID_INPUT(parseDomainXml("<domain type='kvm'><name>a&#x1b;</name></domain>"),
                       "character reference '&#x1b;' is not a character XML allows");
}

TEST(ParseDocument, RejectsInvalidUtf8) {
  EXPECT_INVALID_INPUT(parseDomainXml("<domain type='kvm'><name>\xff</name></domain>"),
                       "line 1: the document is not valid UTF-8");
}

TEST(ParseDocument, RejectsTruncatedUtf8Sequence) {
  EXPECT_INVALID_INPUT(parseDomainXml("<domain type='kvm'><name>x</name></domain>\xe2\x82"),
                       "not valid UTF-8");
}

TEST(ParseDocument, RejectsNulByte) {
  std::string text = "<domain type='kvm'><name>a</name></domain>";
  text.insert(27, 1, '\0');
  EXPECT_INVALID_INPUT(parseDomainXml(text), "character U+0000 is not allowed in XML");
}

TEST(ParseDocument, AcceptsUtf8ByteOrderMark) {
  auto domain = parseDomainXml("\xEF\xBB\xBF<domain type='kvm'><name>bom</name></domain>");
  EXPECT_EQ(domain.name, "bom");
}

TEST(ParseDocument, RejectsRepeatedAttribute) {
  EXPECT_INVALID_INPUT(parseDomainXml("<domain type='kvm' type='xen'><name>a</name></domain>"),
                       "/domain: attribute 'type' is given more than once");
}

TEST(ParseDocument, RejectsDocumentOverSixteenMebibytes) {
  std::string text = domainXml("");
  text.insert(text.size() - 10, std::string(kMaxDomainXmlSize, ' '));
  EXPECT_INVALID_INPUT(parseDomainXml(text), "more than the limit of 16777216 (16 MiB)");
}

TEST(ParseDocument, SurvivesDeepNesting) {
  // pugixml and our walks are iterative: nesting depth must not overflow the stack.
  std::string deep;
  for (int i = 0; i < 200000; ++i) deep += "<x>";
  for (int i = 0; i < 200000; ++i) deep += "</x>";
  auto domain = parseDomainXml(domainXml("  <metadata>" + deep + "</metadata>\n"));
  EXPECT_EQ(domain.name, "guest");
  EXPECT_FALSE(formatDomainXml(domain, XmlForm::Inactive).empty());
}

TEST(ParseDomainFile, PrefixesErrorsWithTheFileName) {
  std::string path = ::testing::TempDir() + "/bad-domain.xml";
  std::ofstream(path) << "<domain type='kvm'><name>a</name><seclabel type='odd'/></domain>";
  EXPECT_INVALID_INPUT(parseDomainFile(path),
                       path + ": /domain/seclabel[1]: invalid security type 'odd'");
}

TEST(ParseDomainFile, ReportsMissingFile) {
  try {
    parseDomainFile("/nonexistent/domain.xml");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("cannot open /nonexistent/domain.xml"));
    EXPECT_EQ(e.errnum(), ENOENT);
  }
}

// A domain XML that is a FIFO blocked prepare and validate forever; a device
// such as /dev/zero never ends. Regular files only, looked at before opened.
TEST(ParseDomainFile, RefusesAFifoWithoutBlocking) {
  ::seclabel::testing::ScratchTree tree;
  std::string path = tree.path("domain.xml");
  ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0);
  auto outcome = ::seclabel::testing::runGuarded([&] { parseDomainFile(path); });
  ASSERT_TRUE(outcome.finished) << "blocked on a FIFO (signal " << outcome.signal << ")";
  EXPECT_EQ(outcome.exitCode, 2) << outcome.message;
  EXPECT_THAT(outcome.message, ::testing::HasSubstr(path + " is not a regular file"));
}

TEST(ParseDomainFile, RefusesADeviceWithoutReadingIt) {
  auto outcome = ::seclabel::testing::runGuarded([] { parseDomainFile("/dev/zero"); });
  ASSERT_TRUE(outcome.finished) << "signal " << outcome.signal;
  EXPECT_EQ(outcome.exitCode, 2) << outcome.message;
  EXPECT_THAT(outcome.message, ::testing::HasSubstr("is not a regular file"));
}

// At most the limit and one byte are read: a 2 GiB (sparse) file under a
// 512 MiB address-space limit is refused, not read.
TEST(ParseDomainFile, RefusesAFileLargerThanTheLimitWhileReading) {
  ::seclabel::testing::ScratchTree tree;
  std::string path = ::seclabel::testing::sparseFile(tree.path("huge.xml"), off_t(2) << 30);
  auto outcome = ::seclabel::testing::runGuarded([&] { parseDomainFile(path); });
  ASSERT_TRUE(outcome.finished) << "signal " << outcome.signal;
  EXPECT_EQ(outcome.exitCode, 2) << outcome.message;
  EXPECT_THAT(outcome.message, ::testing::HasSubstr("is larger than 16777216 bytes"));
}

// ---- <domain> basics -----------------------------------------------------------

TEST(ParseDomain, ReadsTypeNameAndUuid) {
  auto domain = parseDomainXml(domainXml(""));
  EXPECT_EQ(domain.type, "kvm");
  EXPECT_EQ(domain.name, "guest");
  EXPECT_EQ(domain.uuid, "c7a5fdbd-edaf-9455-926a-d65c16db1809");
  EXPECT_FALSE(domain.uuidGenerated);
}

TEST(ParseDomain, GeneratesMissingUuid) {
  auto domain = parseDomainXml("<domain type='qemu'><name>a</name></domain>");
  EXPECT_TRUE(domain.uuidGenerated);
  EXPECT_THAT(domain.uuid, ::testing::MatchesRegex(
                               "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  auto other = parseDomainXml("<domain type='qemu'><name>a</name></domain>");
  EXPECT_NE(domain.uuid, other.uuid);
}

TEST(ParseDomain, NormalisesUuidSpelling) {
  auto domain = parseDomainXml(
      "<domain type='kvm'><name>a</name><uuid> C7A5FDBDEDAF9455926AD65C16DB1809 </uuid></domain>");
  EXPECT_EQ(domain.uuid, "c7a5fdbd-edaf-9455-926a-d65c16db1809");
}

TEST(ParseDomain, RejectsMalformedUuid) {
  EXPECT_INVALID_INPUT(
      parseDomainXml("<domain type='kvm'><name>a</name><uuid>1234</uuid></domain>"),
      "/domain/uuid: malformed uuid element: '1234' is not a UUID");
  EXPECT_INVALID_INPUT(
      parseDomainXml("<domain type='kvm'><name>a</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db18zz</uuid></domain>"),
      "is not a UUID");
  EXPECT_INVALID_INPUT(
      parseDomainXml("<domain type='kvm'><name>a</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db180911</uuid></domain>"),
      "is not a UUID");
  EXPECT_INVALID_INPUT(parseDomainXml("<domain type='kvm'><name>a</name><uuid></uuid></domain>"),
                       "is not a UUID");
}

TEST(ParseDomain, RejectsMissingType) {
  EXPECT_INVALID_INPUT(parseDomainXml("<domain><name>a</name></domain>"),
                       "/domain: Missing required attribute 'type' in element 'domain'");
}

TEST(ParseDomain, RejectsUnknownType) {
  EXPECT_INVALID_INPUT(parseDomainXml("<domain type='vmx'><name>a</name></domain>"),
                       "/domain: Invalid value for attribute 'type' in element 'domain': 'vmx'");
}

TEST(ParseDomain, RejectsMissingName) {
  EXPECT_INVALID_INPUT(parseDomainXml("<domain type='kvm'/>"), "/domain: missing domain name");
  EXPECT_INVALID_INPUT(parseDomainXml("<domain type='kvm'><name/></domain>"),
                       "/domain/name: missing domain name");
}

TEST(ParseDomain, RejectsNameWithSlash) {
  EXPECT_INVALID_INPUT(parseDomainXml("<domain type='kvm'><name>../etc</name></domain>"),
                       "/domain/name: name '../etc' cannot contain '/'");
}

TEST(ParseDomain, RejectsNameWithControlCharacter) {
  EXPECT_INVALID_INPUT(parseDomainXml("<domain type='kvm'><name>a\tb</name></domain>"),
                       "/domain/name: domain name contains the control character 0x09");
}

TEST(ParseDomain, RejectsElementInsideName) {
  EXPECT_INVALID_INPUT(parseDomainXml("<domain type='kvm'><name>a<b/></name></domain>"),
                       "/domain/name: unexpected element <b> inside <name>");
}

// ---- domain-level <seclabel> -----------------------------------------------------

TEST(DomainSeclabel, TypeDefaultsToDynamicWithRelabel) {
  auto domain = parseDomainXml(seclabelXml("<seclabel model='selinux'/>"));
  ASSERT_EQ(domain.seclabels.size(), 1u);
  EXPECT_EQ(domain.seclabels[0].type, SeclabelType::Dynamic);
  EXPECT_TRUE(domain.seclabels[0].relabel);
  EXPECT_EQ(domain.seclabels[0].model, "selinux");
  EXPECT_FALSE(domain.seclabels[0].modelImplicit);
}

TEST(DomainSeclabel, StaticDefaultsToNoRelabel) {
  auto domain = parseDomainXml(
      seclabelXml("<seclabel type='static' model='dac'><label>+5:+6</label></seclabel>"));
  EXPECT_EQ(domain.seclabels[0].type, SeclabelType::Static);
  EXPECT_FALSE(domain.seclabels[0].relabel);
  EXPECT_EQ(domain.seclabels[0].label, "+5:+6");
}

TEST(DomainSeclabel, StaticMayRelabel) {
  auto domain = parseDomainXml(seclabelXml(
      "<seclabel type='static' model='selinux' relabel='yes'><label>u:r:t:s0</label></seclabel>"));
  EXPECT_TRUE(domain.seclabels[0].relabel);
}

TEST(DomainSeclabel, NoneDefaultsToNoRelabel) {
  auto domain = parseDomainXml(seclabelXml("<seclabel type='none' model='selinux'/>"));
  EXPECT_EQ(domain.seclabels[0].type, SeclabelType::None);
  EXPECT_FALSE(domain.seclabels[0].relabel);
}

TEST(DomainSeclabel, RejectsUnknownType) {
  EXPECT_INVALID_INPUT(parseDomainXml(seclabelXml("<seclabel type='Dynamic' model='selinux'/>")),
                       "/domain/seclabel[1]: invalid security type 'Dynamic'");
}

TEST(DomainSeclabel, RejectsUnknownRelabelValue) {
  EXPECT_INVALID_INPUT(parseDomainXml(seclabelXml("<seclabel model='selinux' relabel='true'/>")),
                       "/domain/seclabel[1]: invalid security relabel value 'true'");
}

TEST(DomainSeclabel, RejectsDynamicWithoutRelabel) {
  EXPECT_INVALID_INPUT(parseDomainXml(seclabelXml("<seclabel type='dynamic' model='dac' relabel='no'/>")),
                       "/domain/seclabel[1]: dynamic label type must use resource relabeling");
}

TEST(DomainSeclabel, RejectsNoneWithRelabel) {
  EXPECT_INVALID_INPUT(
      parseDomainXml(seclabelXml("<seclabel type='none' model='dac' relabel='yes'/>")),
      "/domain/seclabel[1]: resource relabeling is not compatible with 'none' label type");
}

TEST(DomainSeclabel, RejectsStaticWithoutLabel) {
  EXPECT_INVALID_INPUT(parseDomainXml(seclabelXml("<seclabel type='static' model='selinux'/>")),
                       "/domain/seclabel[1]: security label is missing");
}

TEST(DomainSeclabel, RejectsStaticWithEmptyLabel) {
  EXPECT_INVALID_INPUT(
      parseDomainXml(seclabelXml("<seclabel type='static' model='selinux'><label/></seclabel>")),
      "security label is missing");
}

TEST(DomainSeclabel, RejectsSecondSeclabelForSameModel) {
  EXPECT_INVALID_INPUT(parseDomainXml(seclabelXml("<seclabel model='dac'/><seclabel model='selinux'/>"
                                                  "<seclabel type='none' model='dac'/>")),
                       "/domain/seclabel[3]: seclabel for model dac is already provided");
}

TEST(DomainSeclabel, RejectsMissingModelAmongSeveral) {
  EXPECT_INVALID_INPUT(parseDomainXml(seclabelXml("<seclabel type='none'/><seclabel model='dac'/>")),
                       "/domain/seclabel[1]: missing security model when using multiple labels");
}

TEST(DomainSeclabel, RejectsLoneStaticWithoutModel) {
  EXPECT_INVALID_INPUT(
      parseDomainXml(seclabelXml("<seclabel type='static'><label>+1:+1</label></seclabel>")),
      "/domain/seclabel[1]: missing security model in domain seclabel");
}

TEST(DomainSeclabel, RejectsLoneBaselabelWithoutModel) {
  EXPECT_INVALID_INPUT(
      parseDomainXml(seclabelXml("<seclabel><baselabel>u:r:t:s0</baselabel></seclabel>")),
      "missing security model in domain seclabel");
}

TEST(DomainSeclabel, LoneDynamicWithoutModelIsImplicit) {
  auto domain = parseDomainXml(seclabelXml("<seclabel type='dynamic'/>"));
  EXPECT_TRUE(domain.seclabels[0].model.empty());
  EXPECT_TRUE(domain.seclabels[0].modelImplicit);
}

TEST(DomainSeclabel, RejectsEmptyModel) {
  EXPECT_INVALID_INPUT(parseDomainXml(seclabelXml("<seclabel model=''/>")),
                       "/domain/seclabel[1]: security model is empty");
}

TEST(DomainSeclabel, RejectsOverlongModel) {
  EXPECT_INVALID_INPUT(parseDomainXml(seclabelXml("<seclabel model='" + std::string(300, 'm') + "'/>")),
                       "security model is longer than 256 bytes");
}

TEST(DomainSeclabel, ModelNoneIsCoercedToTypeNone) {
  auto domain = parseDomainXml(seclabelXml("<seclabel type='dynamic' model='none'/>"));
  EXPECT_EQ(domain.seclabels[0].type, SeclabelType::None);
  EXPECT_FALSE(domain.seclabels[0].relabel);
}

TEST(DomainSeclabel, ModelNoneDropsLabels) {
  auto domain = parseDomainXml(
      seclabelXml("<seclabel type='static' model='none'><label>whatever</label></seclabel>"));
  EXPECT_EQ(domain.seclabels[0].type, SeclabelType::None);
  EXPECT_FALSE(domain.seclabels[0].label);
}

TEST(DomainSeclabel, LiveModelNoneMustBeTypeNone) {
  EXPECT_INVALID_INPUT(parseDomainXml(seclabelXml("<seclabel type='dynamic' model='none'/>"), XmlForm::Live),
                       "/domain/seclabel[1]: unsupported type='dynamic' to model 'none'");
}

TEST(DomainSeclabel, InactiveIgnoresDynamicLabels) {
  auto domain = parseDomainXml(seclabelXml(
      "<seclabel model='selinux'><label>u:r:t:s0:c1,c2</label><imagelabel>u:r:i:s0:c1,c2</imagelabel></seclabel>"));
  EXPECT_FALSE(domain.seclabels[0].label);
  EXPECT_FALSE(domain.seclabels[0].imagelabel);
}

TEST(DomainSeclabel, InactiveDoesNotValidateIgnoredDynamicLabels) {
  auto domain = parseDomainXml(seclabelXml("<seclabel model='dac'><label>not a dac label</label></seclabel>"));
  EXPECT_FALSE(domain.seclabels[0].label);
}

TEST(DomainSeclabel, LiveKeepsDynamicLabels) {
  auto domain = parseDomainXml(
      seclabelXml("<seclabel model='selinux'><label>u:r:t:s0:c1,c2</label><imagelabel>u:r:i:s0:c1,c2</imagelabel></seclabel>"),
      XmlForm::Live);
  EXPECT_EQ(domain.seclabels[0].label, "u:r:t:s0:c1,c2");
  EXPECT_EQ(domain.seclabels[0].imagelabel, "u:r:i:s0:c1,c2");
}

TEST(DomainSeclabel, LiveStaticWithoutRelabelHasNoImagelabel) {
  auto domain = parseDomainXml(
      seclabelXml("<seclabel type='static' model='dac'><label>+1:+1</label><imagelabel>+2:+2</imagelabel></seclabel>"),
      XmlForm::Live);
  EXPECT_EQ(domain.seclabels[0].label, "+1:+1");
  EXPECT_FALSE(domain.seclabels[0].imagelabel);
}

TEST(DomainSeclabel, ReadsBaselabelForDynamicSelinux) {
  auto domain = parseDomainXml(seclabelXml(
      "<seclabel model='selinux'><baselabel>system_u:system_r:svirt_tcg_t:s0</baselabel></seclabel>"));
  EXPECT_EQ(domain.seclabels[0].baselabel, "system_u:system_r:svirt_tcg_t:s0");
}

TEST(DomainSeclabel, IgnoresBaselabelOfStaticLabel) {
  auto domain = parseDomainXml(seclabelXml(
      "<seclabel type='static' model='selinux'><label>u:r:t:s0</label><baselabel>u:r:x:s0</baselabel></seclabel>"));
  EXPECT_FALSE(domain.seclabels[0].baselabel);
}

TEST(DomainSeclabel, RejectsBaselabelForDac) {
  EXPECT_INVALID_INPUT(
      parseDomainXml(seclabelXml("<seclabel model='dac'><baselabel>+1:+1</baselabel></seclabel>")),
      "/domain/seclabel[1]/baselabel: a base label is only supported by the selinux model, not 'dac'");
}

TEST(DomainSeclabel, RejectsMalformedBaselabel) {
  EXPECT_INVALID_INPUT(
      parseDomainXml(seclabelXml("<seclabel model='selinux'><baselabel>svirt_t</baselabel></seclabel>")),
      "/domain/seclabel[1]/baselabel: SELinux label 'svirt_t' is not user:role:type:level");
}

TEST(DomainSeclabel, ChecksStaticSelinuxLabelSyntax) {
  EXPECT_INVALID_INPUT(parseDomainXml(seclabelXml(
                           "<seclabel type='static' model='selinux'><label>u:r:t:s0:c3,c1</label></seclabel>")),
                       "/domain/seclabel[1]/label: SELinux label 'u:r:t:s0:c3,c1': MLS range");
}

TEST(DomainSeclabel, ChecksStaticDacLabelSyntax) {
  EXPECT_INVALID_INPUT(parseDomainXml(seclabelXml(
                           "<seclabel type='static' model='dac'><label>+0:+4294967295</label></seclabel>")),
                       "/domain/seclabel[1]/label: DAC label '+0:+4294967295': group 4294967295 is reserved");
}

TEST(DomainSeclabel, ChecksLabelOfOtherModelsForLengthOnly) {
  auto domain = parseDomainXml(seclabelXml(
      "<seclabel type='static' model='apparmor'><label>libvirt-c7a5fdbd</label></seclabel>"));
  EXPECT_EQ(domain.seclabels[0].label, "libvirt-c7a5fdbd");
  EXPECT_INVALID_INPUT(
      parseDomainXml(seclabelXml("<seclabel type='static' model='apparmor'><label>" +
                                 std::string(4097, 'a') + "</label></seclabel>")),
      "/domain/seclabel[1]/label: label is 4097 bytes long, more than the limit of 4096");
}

TEST(DomainSeclabel, RejectsLabelWithControlCharacter) {
  EXPECT_INVALID_INPUT(parseDomainXml(seclabelXml(
                           "<seclabel type='static' model='apparmor'><label>a\nb</label></seclabel>")),
                       "label contains the control character 0x0a");
}

TEST(DomainSeclabel, RejectsElementInsideLabel) {
  EXPECT_INVALID_INPUT(parseDomainXml(seclabelXml(
                           "<seclabel type='static' model='dac'><label><x/>+1:+1</label></seclabel>")),
                       "/domain/seclabel[1]/label: unexpected element <x> inside <label>");
}

// ---- resolveSeclabelModels ---------------------------------------------------------

TEST(ResolveSeclabelModels, GivesLoneSeclabelTheFirstDriversModel) {
  auto domain = parseDomainXml(seclabelXml("<seclabel type='dynamic'/>"));
  resolveSeclabelModels(domain, {"dac", "selinux"});
  EXPECT_EQ(domain.seclabels[0].model, "dac");
  EXPECT_TRUE(domain.seclabels[0].modelImplicit);
  EXPECT_EQ(domain.seclabelFor("dac"), &domain.seclabels[0]);
}

TEST(ResolveSeclabelModels, FirstDriverNoneMakesTypeNone) {
  auto domain = parseDomainXml(seclabelXml("<seclabel/>"));
  resolveSeclabelModels(domain, {"none"});
  EXPECT_EQ(domain.seclabels[0].model, "none");
  EXPECT_EQ(domain.seclabels[0].type, SeclabelType::None);
  EXPECT_FALSE(domain.seclabels[0].relabel);
}

TEST(ResolveSeclabelModels, ChecksLiveLabelsAgainstTheResolvedModel) {
  auto domain = parseDomainXml(seclabelXml("<seclabel><label>not-a-context</label></seclabel>"), XmlForm::Live);
  EXPECT_INVALID_INPUT(resolveSeclabelModels(domain, {"selinux"}),
                       "/domain/seclabel[1]: SELinux label 'not-a-context' is not user:role:type:level");
}

TEST(ResolveSeclabelModels, RejectsModellessSeclabelWithoutDrivers) {
  auto domain = parseDomainXml(seclabelXml("<seclabel/>"));
  EXPECT_INVALID_INPUT(resolveSeclabelModels(domain, {}),
                       "/domain/seclabel[1]: no security driver is configured");
}

TEST(ResolveSeclabelModels, RejectsModelNoDriverProvides) {
  auto domain = parseDomainXml(seclabelXml("<seclabel model='selinux'/><seclabel model='apparmor'/>"));
  EXPECT_INVALID_INPUT(resolveSeclabelModels(domain, {"selinux", "dac"}),
                       "/domain/seclabel[2]: Unable to find security driver for model apparmor");
}

TEST(ResolveSeclabelModels, AlwaysAcceptsModelNone) {
  auto domain = parseDomainXml(seclabelXml("<seclabel model='none'/>"));
  resolveSeclabelModels(domain, {"dac"});
  EXPECT_EQ(domain.seclabels[0].model, "none");
}

TEST(ResolveSeclabelModels, LeavesExplicitModelsAlone) {
  auto domain = parseDomainXml(seclabelXml("<seclabel model='dac'/>"));
  resolveSeclabelModels(domain, {"selinux", "dac"});
  EXPECT_EQ(domain.seclabels[0].model, "dac");
  EXPECT_FALSE(domain.seclabels[0].modelImplicit);
}

// ---- the model --------------------------------------------------------------------

TEST(DomainModel, CopyDeepCopiesTheDocument) {
  auto original = parseDomainXml(seclabelXml("<seclabel model='dac'/>"));
  Domain copy = original;
  original.seclabels.clear();
  original = Domain();  // destroys the original document
  EXPECT_THAT(formatDomainXml(copy, XmlForm::Inactive),
              ::testing::HasSubstr("<seclabel type='dynamic' model='dac' relabel='yes'/>"));
}

TEST(DomainModel, TypeNamesMatchLibvirt) {
  EXPECT_STREQ(toString(SeclabelType::Dynamic), "dynamic");
  EXPECT_STREQ(toString(SeclabelType::Static), "static");
  EXPECT_STREQ(toString(SeclabelType::None), "none");
}

}  // namespace
}  // namespace seclabel
