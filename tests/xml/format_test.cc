// formatDomainXml: what is rewritten (uuid, domain-level seclabels), what
// survives untouched (everything else), and which labels each form carries.
#include "xml_test_util.h"

namespace seclabel {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::domainXml;
using testing::expectSameModel;

Seclabel dynamicSeclabel(const char* model) {
  Seclabel seclabel;
  seclabel.model = model;
  return seclabel;
}

TEST(Format, WritesUnchangedDocumentBackByteForByte) {
  std::string xml = domainXml(
      "  <devices>\n    <disk type='file'>\n      <source file='/i/a'/>\n      <target dev='vda'/>\n"
      "    </disk>\n  </devices>\n  <seclabel type='dynamic' model='selinux' relabel='yes'/>\n");
  EXPECT_EQ(formatDomainXml(parseDomainXml(xml), XmlForm::Inactive), xml);
}

TEST(Format, KeepsUnknownElementsNamespacesCommentsAndDeclaration) {
  std::string xml =
      "<?xml version='1.0' encoding='UTF-8'?>\n<!-- top comment -->\n"
      "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
      "  <name>a</name>\n  <uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>\n"
      "  <metadata><x:y xmlns:x='urn:x' a='1'>text &amp; more</x:y></metadata>\n"
      "  <!-- inner comment -->\n  <features><acpi/></features>\n"
      "  <qemu:commandline>\n    <qemu:arg value='-S'/>\n  </qemu:commandline>\n"
      "</domain>\n";
  EXPECT_EQ(formatDomainXml(parseDomainXml(xml), XmlForm::Inactive), xml);
}

TEST(Format, InsertsGeneratedUuidAfterName) {
  auto domain = parseDomainXml("<domain type='kvm'>\n  <name>a</name>\n  <memory>1</memory>\n</domain>\n");
  std::string xml = formatDomainXml(domain, XmlForm::Inactive);
  EXPECT_EQ(xml, "<domain type='kvm'>\n  <name>a</name>\n  <uuid>" + domain.uuid +
                     "</uuid>\n  <memory>1</memory>\n</domain>\n");
  EXPECT_EQ(parseDomainXml(xml).uuid, domain.uuid);
  EXPECT_FALSE(parseDomainXml(xml).uuidGenerated);
}

TEST(Format, WritesCanonicalUuid) {
  auto domain = parseDomainXml("<domain type='kvm'><name>a</name><uuid>C7A5FDBDEDAF9455926AD65C16DB1809</uuid></domain>");
  EXPECT_THAT(formatDomainXml(domain, XmlForm::Inactive),
              HasSubstr("<uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>"));
}

TEST(Format, WritesDefaultsExplicitlyLibvirtStyle) {
  auto domain = parseDomainXml(domainXml("  <seclabel model='selinux'/>\n  <seclabel model='none'/>\n"));
  std::string xml = formatDomainXml(domain, XmlForm::Inactive);
  EXPECT_THAT(xml, HasSubstr("  <seclabel type='dynamic' model='selinux' relabel='yes'/>\n"
                             "  <seclabel type='none' model='none'/>\n"));
}

TEST(Format, LiveCarriesGeneratedLabelsAndImageLabels) {
  auto domain = parseDomainXml(domainXml("  <seclabel type='dynamic' model='selinux'/>\n"));
  domain.seclabels[0].label = "system_u:system_r:svirt_t:s0:c1,c2";
  domain.seclabels[0].imagelabel = "system_u:object_r:svirt_image_t:s0:c1,c2";
  EXPECT_THAT(formatDomainXml(domain, XmlForm::Live),
              HasSubstr("  <seclabel type='dynamic' model='selinux' relabel='yes'>\n"
                        "    <label>system_u:system_r:svirt_t:s0:c1,c2</label>\n"
                        "    <imagelabel>system_u:object_r:svirt_image_t:s0:c1,c2</imagelabel>\n"
                        "  </seclabel>\n"));
}

TEST(Format, InactiveDropsGeneratedLabels) {
  auto domain = parseDomainXml(domainXml("  <seclabel type='dynamic' model='dac'/>\n"));
  domain.seclabels[0].label = "+1879048192:+1879048192";
  domain.seclabels[0].imagelabel = "+1879048192:+1879048192";
  std::string xml = formatDomainXml(domain, XmlForm::Inactive);
  EXPECT_THAT(xml, HasSubstr("<seclabel type='dynamic' model='dac' relabel='yes'/>"));
  EXPECT_THAT(xml, Not(HasSubstr("1879048192")));
}

TEST(Format, InactiveKeepsStaticLabelAndDropsImagelabel) {
  auto domain = parseDomainXml(
      domainXml("  <seclabel type='static' model='dac' relabel='yes'><label>+7:+8</label></seclabel>\n"));
  domain.seclabels[0].imagelabel = "+7:+8";
  std::string xml = formatDomainXml(domain, XmlForm::Inactive);
  EXPECT_THAT(xml, HasSubstr("<label>+7:+8</label>"));
  EXPECT_THAT(xml, Not(HasSubstr("imagelabel")));
  EXPECT_THAT(formatDomainXml(domain, XmlForm::Live), HasSubstr("<imagelabel>+7:+8</imagelabel>"));
}

TEST(Format, KeepsBaselabelOfDynamicLabel) {
  auto domain = parseDomainXml(
      domainXml("  <seclabel model='selinux'><baselabel>u:r:svirt_tcg_t:s0</baselabel></seclabel>\n"));
  EXPECT_THAT(formatDomainXml(domain, XmlForm::Inactive),
              HasSubstr("<baselabel>u:r:svirt_tcg_t:s0</baselabel>"));
}

TEST(Format, NoneWritesNoRelabelAndNoLabels) {
  auto domain = parseDomainXml(domainXml("  <seclabel type='none' model='selinux'/>\n"));
  domain.seclabels[0].label = "ignored";
  EXPECT_THAT(formatDomainXml(domain, XmlForm::Live), HasSubstr("<seclabel type='none' model='selinux'/>"));
}

TEST(Format, EscapesLabelText) {
  auto domain = parseDomainXml(domainXml("  <seclabel type='dynamic' model='apparmor'/>\n"));
  domain.seclabels[0].label = "a<b>&c";
  std::string xml = formatDomainXml(domain, XmlForm::Live);
  EXPECT_THAT(xml, HasSubstr("<label>a&lt;b&gt;&amp;c</label>"));
  EXPECT_EQ(parseDomainXml(xml, XmlForm::Live).seclabels[0].label, "a<b>&c");
}

TEST(Format, ReplacesSeclabelsWhereTheFirstOneStood) {
  auto domain = parseDomainXml(domainXml(
      "  <seclabel model='dac'/>\n  <features/>\n  <seclabel model='selinux'/>\n  <clock/>\n"));
  std::string xml = formatDomainXml(domain, XmlForm::Inactive);
  EXPECT_THAT(xml, HasSubstr("</uuid>\n  <seclabel type='dynamic' model='dac' relabel='yes'/>\n"
                             "  <seclabel type='dynamic' model='selinux' relabel='yes'/>\n"
                             "  <features/>\n  <clock/>\n</domain>"));
}

TEST(Format, AddsNewSeclabelsAfterDevices) {
  auto domain = parseDomainXml(domainXml("  <devices>\n  </devices>\n  <qemu:commandline xmlns:qemu='urn:q'/>\n"));
  domain.seclabels.push_back(dynamicSeclabel("dac"));
  EXPECT_THAT(formatDomainXml(domain, XmlForm::Inactive),
              HasSubstr("  </devices>\n  <seclabel type='dynamic' model='dac' relabel='yes'/>\n"
                        "  <qemu:commandline"));
}

TEST(Format, AddsNewSeclabelsAtTheEndWithoutDevices) {
  auto domain = parseDomainXml("<domain type='kvm'><name>a</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid></domain>");
  domain.seclabels.push_back(dynamicSeclabel("dac"));
  EXPECT_EQ(formatDomainXml(domain, XmlForm::Inactive),
            "<domain type='kvm'><name>a</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>"
            "<seclabel type='dynamic' model='dac' relabel='yes'/></domain>\n");
}

TEST(Format, RemovesSeclabelsNoLongerInTheModel) {
  auto domain = parseDomainXml(domainXml("  <seclabel model='dac'/>\n"));
  domain.seclabels.clear();
  EXPECT_THAT(formatDomainXml(domain, XmlForm::Inactive), Not(HasSubstr("seclabel")));
}

TEST(Format, KeepsDeviceSeclabelsAsWritten) {
  std::string xml = testing::diskXml("<seclabel model='dac' relabel='no'/>");
  EXPECT_EQ(formatDomainXml(parseDomainXml(xml), XmlForm::Inactive), xml);
}

TEST(Format, WritesResolvedModel) {
  auto domain = parseDomainXml(domainXml("  <seclabel/>\n"));
  resolveSeclabelModels(domain, {"selinux"});
  EXPECT_THAT(formatDomainXml(domain, XmlForm::Inactive),
              HasSubstr("<seclabel type='dynamic' model='selinux' relabel='yes'/>"));
}

TEST(Format, BuildsDocumentForDomainMadeInCode) {
  Domain domain;
  domain.type = "kvm";
  domain.name = "made&in<code";
  domain.uuid = "c7a5fdbd-edaf-9455-926a-d65c16db1809";
  domain.seclabels.push_back(dynamicSeclabel("selinux"));
  std::string xml = formatDomainXml(domain, XmlForm::Inactive);
  auto parsed = parseDomainXml(xml);
  EXPECT_EQ(parsed.name, "made&in<code");
  EXPECT_EQ(parsed.uuid, domain.uuid);
  ASSERT_EQ(parsed.seclabels.size(), 1u);
  EXPECT_EQ(parsed.seclabels[0].model, "selinux");
}

TEST(Format, LiveOutputParsesBackToTheSameLiveModel) {
  auto domain = parseDomainXml(domainXml(
      "  <seclabel model='selinux'/>\n  <seclabel type='static' model='dac' relabel='yes'><label>+5:+5</label></seclabel>\n"));
  domain.seclabels[0].label = "u:r:svirt_t:s0:c4,c9";
  domain.seclabels[0].imagelabel = "u:object_r:svirt_image_t:s0:c4,c9";
  domain.seclabels[1].imagelabel = "+5:+5";
  auto reparsed = parseDomainXml(formatDomainXml(domain, XmlForm::Live), XmlForm::Live);
  expectSameModel(reparsed, domain);
}

TEST(Format, IsIdempotentWithStrayTextBeforeSeclabels) {
  // Found by the fuzzer: text that is not only whitespace in front of the
  // first seclabel used to gain one more line break per format.
  std::string once = formatDomainXml(
      parseDomainXml(domainXml("  <devices/>~\n  <seclabel model='dac'/>\n\n  <seclabel model='selinux'/>\n")),
      XmlForm::Inactive);
  EXPECT_THAT(once, HasSubstr("<devices/>~\n  <seclabel type='dynamic' model='dac' relabel='yes'/>\n"
                              "  <seclabel type='dynamic' model='selinux' relabel='yes'/>\n\n</domain>"));
  EXPECT_EQ(formatDomainXml(parseDomainXml(once), XmlForm::Inactive), once);
}

TEST(Format, IsIdempotent) {
  auto domain = parseDomainXml(domainXml("  <seclabel model='dac'/>\n"));
  domain.seclabels[0].label = "+1:+1";
  std::string once = formatDomainXml(domain, XmlForm::Live);
  std::string twice = formatDomainXml(parseDomainXml(once, XmlForm::Live), XmlForm::Live);
  EXPECT_EQ(once, twice);
}

}  // namespace
}  // namespace seclabel
