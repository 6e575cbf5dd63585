// <devices><interface>: parsing as libvirt does, the value types, writing
// back, and the prepare-time checks and defaults (xml/interfaces.h).
#include <deque>
#include <set>

#include "xml/interfaces.h"
#include "xml_test_util.h"

namespace seclabel {
namespace {

using testing::domainXml;

std::string devicesXml(const std::string& devices) {
  return domainXml("  <devices>\n" + devices + "  </devices>\n");
}

Interface onlyInterface(const std::string& xml, XmlForm form = XmlForm::Inactive) {
  auto domain = parseDomainXml(devicesXml(xml), form);
  EXPECT_EQ(domain.interfaces.size(), 1u);
  return domain.interfaces.at(0);
}

std::string bridgeWith(const std::string& children) {
  return "<interface type='bridge'><source bridge='br0'/>" + children + "</interface>";
}

// ---- the types ------------------------------------------------------------------

TEST(InterfaceParse, ReadsABridgeInterfaceAndItsCommonChildren) {
  Interface interface = onlyInterface(
      "<interface type='bridge'><mac address='52:54:00:0a:0b:0c'/><source bridge='br0'/>"
      "<target dev='tap7'/><model type='virtio'/><driver name='vhost' queues='4'/>"
      "<alias name='net3'/></interface>");
  EXPECT_EQ(interface.type, InterfaceType::Bridge);
  EXPECT_EQ(interface.bridge->str(), "br0");
  EXPECT_FALSE(interface.sourceDev);
  EXPECT_EQ(interface.mac->format(), "52:54:00:0a:0b:0c");
  EXPECT_EQ(interface.target->str(), "tap7");
  EXPECT_EQ(interface.tapManagement, TapManagement::Managed);
  EXPECT_EQ(interface.model, "virtio");
  EXPECT_EQ(interface.driver, NetDriverName::Vhost);
  EXPECT_EQ(interface.queues, 4u);
  EXPECT_EQ(interface.queueCount(), 4u);
  EXPECT_EQ(interface.alias, "net3");
}

TEST(InterfaceParse, AbsentValuesStayUnset) {
  Interface interface = onlyInterface("<interface type='bridge'><source bridge='br0'/></interface>");
  EXPECT_FALSE(interface.mac);
  EXPECT_FALSE(interface.target);
  EXPECT_FALSE(interface.model);
  EXPECT_FALSE(interface.driver);
  EXPECT_FALSE(interface.queues);
  EXPECT_EQ(interface.queueCount(), 1u);
  EXPECT_FALSE(interface.alias);
}

TEST(InterfaceParse, ReadsADirectInterfaceWithItsMode) {
  for (auto [text, mode] : {std::pair{"bridge", MacvtapMode::Bridge}, {"vepa", MacvtapMode::Vepa},
                            {"private", MacvtapMode::Private}, {"passthrough", MacvtapMode::Passthrough}}) {
    Interface interface = onlyInterface(std::string("<interface type='direct'><source dev='eth0' mode='") +
                                        text + "'/></interface>");
    EXPECT_EQ(interface.type, InterfaceType::Direct);
    EXPECT_EQ(interface.sourceDev->str(), "eth0");
    EXPECT_EQ(interface.macvtapMode, mode) << text;
    EXPECT_STREQ(toString(interface.macvtapMode), text);
  }
}

TEST(InterfaceParse, DirectModeDefaultsToVepaAsInLibvirt) {
  EXPECT_EQ(onlyInterface("<interface type='direct'><source dev='eth0'/></interface>").macvtapMode,
            MacvtapMode::Vepa);
}

TEST(InterfaceParse, ReadsAnEthernetInterfaceOnAnExistingTap) {
  Interface interface =
      onlyInterface("<interface type='ethernet'><target dev='tap7' managed='no'/></interface>");
  EXPECT_EQ(interface.type, InterfaceType::Ethernet);
  EXPECT_EQ(interface.tapManagement, TapManagement::Unmanaged);
  EXPECT_EQ(interface.target->str(), "tap7");
}

TEST(InterfaceParse, ReadsAnEthernetInterfaceSeclabelCreates) {
  Interface interface = onlyInterface("<interface type='ethernet'><target dev='guesttap'/></interface>");
  EXPECT_EQ(interface.tapManagement, TapManagement::Managed);
  EXPECT_EQ(interface.target->str(), "guesttap");
  EXPECT_EQ(onlyInterface("<interface type='ethernet'/>").target, std::nullopt);
}

TEST(InterfaceParse, TypeDefaultsToUserAsInLibvirt) {
  EXPECT_EQ(onlyInterface("<interface/>").type, InterfaceType::User);
}

TEST(InterfaceParse, ParsesTypesItCannotPrepare) {
  auto domain = parseDomainXml(devicesXml(
      "<interface type='network'><source network='default'/><mac address='52:54:00:00:00:01'/></interface>"
      "<interface type='user'/>"
      "<interface type='vhostuser'><source type='unix' path='/run/vu.sock' mode='client'/>"
      "<model type='virtio'/></interface>"));
  ASSERT_EQ(domain.interfaces.size(), 3u);
  EXPECT_EQ(domain.interfaces[0].type, InterfaceType::Network);
  EXPECT_EQ(domain.interfaces[0].mac->format(), "52:54:00:00:00:01");
  EXPECT_EQ(domain.interfaces[1].type, InterfaceType::User);
  EXPECT_EQ(domain.interfaces[2].type, InterfaceType::VhostUser);
}

TEST(InterfaceParse, KnowsEveryLibvirtType) {
  for (const char* name : {"user", "ethernet", "vhostuser", "server", "client", "mcast", "network",
                           "bridge", "internal", "direct", "hostdev", "udp", "vdpa", "null", "vds"}) {
    auto type = interfaceTypeFromString(name);
    ASSERT_TRUE(type) << name;
    EXPECT_STREQ(toString(*type), name);
  }
}

TEST(InterfaceParse, RejectsUnknownType) {
  EXPECT_INVALID_INPUT(parseDomainXml(devicesXml("<interface type='tap'/>")),
                       "/domain/devices/interface[1]: Invalid value for attribute 'type' in element "
                       "'interface': 'tap'");
}

TEST(InterfaceParse, RejectsBridgeWithoutSource) {
  EXPECT_INVALID_INPUT(parseDomainXml(devicesXml("<interface type='bridge'/>")),
                       "/domain/devices/interface[1]: interface type='bridge' requires a 'source' element");
}

TEST(InterfaceParse, RejectsBridgeSourceWithoutBridgeName) {
  EXPECT_INVALID_INPUT(parseDomainXml(devicesXml("<interface type='bridge'><source dev='br0'/></interface>")),
                       "/domain/devices/interface[1]/source: Missing required attribute 'bridge' in element "
                       "'source'");
}

TEST(InterfaceParse, RejectsDirectWithoutParentDevice) {
  EXPECT_INVALID_INPUT(parseDomainXml(devicesXml("<interface type='direct'><source mode='vepa'/></interface>")),
                       "Missing required attribute 'dev' in element 'source'");
}

TEST(InterfaceParse, RejectsUnknownMacvtapMode) {
  EXPECT_INVALID_INPUT(
      parseDomainXml(devicesXml("<interface type='direct'><source dev='eth0' mode='bridged'/></interface>")),
      "/domain/devices/interface[1]/source: Invalid value for attribute 'mode' in element 'source': 'bridged'");
}

TEST(InterfaceParse, NamesTheInterfaceInErrors) {
  EXPECT_INVALID_INPUT(parseDomainXml(devicesXml(bridgeWith("") + bridgeWith("<mac address='01:00:5e:00:00:01'/>"))),
                       "/domain/devices/interface[2]/mac: expected unicast mac address");
}

// ---- MAC addresses ----------------------------------------------------------------

TEST(MacAddressValue, ParsesEitherCaseAndShortGroupsAndFormatsLowerCase) {
  EXPECT_EQ(MacAddress::parse("52:54:00:AB:cd:0E").format(), "52:54:00:ab:cd:0e");
  EXPECT_EQ(MacAddress::parse("2:4:0:a:b:c").format(), "02:04:00:0a:0b:0c");
  EXPECT_EQ(MacAddress::parse("52:54:00:ab:cd:ef"), MacAddress::parse("52:54:00:AB:CD:EF"));
}

TEST(MacAddressValue, RejectsMulticastInLibvirtsWords) {
  EXPECT_INVALID_INPUT(MacAddress::parse("01:00:5e:00:00:01"),
                       "expected unicast mac address, found multicast '01:00:5e:00:00:01'");
  EXPECT_INVALID_INPUT(MacAddress::parse("ff:ff:ff:ff:ff:ff"), "found multicast");
  EXPECT_INVALID_INPUT(MacAddress::fromBytes({0x53, 0, 0, 0, 0, 1}), "found multicast");
}

TEST(MacAddressValue, RejectsTheAllZeroAddress) {
  EXPECT_INVALID_INPUT(MacAddress::parse("00:00:00:00:00:00"), "is all zeros");
  EXPECT_INVALID_INPUT(MacAddress::fromBytes({0, 0, 0, 0, 0, 0}), "is all zeros");
}

TEST(MacAddressValue, RejectsWrongLength) {
  for (const char* text : {"52:54:00:ab:cd", "52:54:00:ab:cd:ef:01", "", "52:54:00:ab:cd:", "525400abcdef"}) {
    EXPECT_INVALID_INPUT(MacAddress::parse(text), "unable to parse mac address");
  }
}

TEST(MacAddressValue, RejectsBadHexAndOtherSeparators) {
  for (const char* text : {"52:54:00:ab:cd:eg", "52:54:00:ab:cd:123", "52-54-00-ab-cd-ef",
                           " 52:54:00:ab:cd:ef", "52:54:00:ab:cd:ef ", "52:54:00:+a:cd:ef", "52:54::ab:cd:ef"}) {
    SCOPED_TRACE(text);
    EXPECT_INVALID_INPUT(MacAddress::parse(text), "unable to parse mac address");
  }
}

TEST(MacAddressValue, DoesNotEchoAHugeValue) {
  std::string huge(100000, 'a');
  try {
    MacAddress::parse(huge);
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_LT(std::string(e.what()).size(), 200u);
    EXPECT_THAT(e.what(), ::testing::HasSubstr("a value of 100000 bytes"));
  }
}

TEST(InterfaceParse, RejectsMalformedMacAtParseTime) {
  EXPECT_INVALID_INPUT(parseDomainXml(devicesXml(bridgeWith("<mac address='52:54:00:zz:00:01'/>"))),
                       "/domain/devices/interface[1]/mac: unable to parse mac address '52:54:00:zz:00:01'");
}

TEST(InterfaceParse, MacElementWithoutAddressLeavesItUnset) {
  EXPECT_FALSE(onlyInterface(bridgeWith("<mac type='generated'/>")).mac);
}

// ---- link names -------------------------------------------------------------------

TEST(InterfaceNameValue, AcceptsUpToFifteenBytes) {
  EXPECT_EQ(InterfaceName::parse("a").str(), "a");
  EXPECT_EQ(InterfaceName::parse("abcdefghijklmno").str(), "abcdefghijklmno");
  EXPECT_EQ(InterfaceName::parse("br-lan.100_x").str(), "br-lan.100_x");
}

TEST(InterfaceNameValue, RejectsSixteenBytesInLibvirtsWords) {
  EXPECT_INVALID_INPUT(InterfaceName::parse("abcdefghijklmnop"),
                       "Network interface name 'abcdefghijklmnop' is too long (16 bytes, the kernel allows 15)");
}

TEST(InterfaceNameValue, RejectsWhatTheKernelRefuses) {
  EXPECT_INVALID_INPUT(InterfaceName::parse(""), "interface name is empty");
  EXPECT_INVALID_INPUT(InterfaceName::parse("a/b"), "interface name 'a/b' cannot contain '/'");
  EXPECT_INVALID_INPUT(InterfaceName::parse("eth0:1"), "interface name 'eth0:1' cannot contain ':'");
  EXPECT_INVALID_INPUT(InterfaceName::parse("my tap"), "cannot contain whitespace");
  EXPECT_INVALID_INPUT(InterfaceName::parse("a\xc3\xa0"), "cannot contain whitespace");
  EXPECT_INVALID_INPUT(InterfaceName::parse("."), "interface name '.' is not allowed");
  EXPECT_INVALID_INPUT(InterfaceName::parse(".."), "interface name '..' is not allowed");
}

TEST(InterfaceNameValue, RejectsControlCharacters) {
  EXPECT_INVALID_INPUT(InterfaceName::parse("tap\t1"), "interface name contains the control character 0x09");
  EXPECT_INVALID_INPUT(InterfaceName::parse(std::string("tap\0", 4)), "control character 0x00");
  EXPECT_INVALID_INPUT(InterfaceName::parse("tap\x7f"), "control character 0x7f");
}

TEST(InterfaceNameValue, RejectsANameTemplate) {
  EXPECT_INVALID_INPUT(InterfaceName::parse("vnet%d"), "cannot contain '%' (the kernel would read it as a name template)");
}

TEST(InterfaceParse, ChecksEveryLinkName) {
  EXPECT_INVALID_INPUT(parseDomainXml(devicesXml("<interface type='bridge'><source bridge='br/0'/></interface>")),
                       "/domain/devices/interface[1]/source: interface name 'br/0' cannot contain '/'");
  EXPECT_INVALID_INPUT(
      parseDomainXml(devicesXml("<interface type='direct'><source dev='averyveryverylongeth0'/></interface>")),
      "/domain/devices/interface[1]/source: Network interface name 'averyveryverylongeth0' is too long");
  EXPECT_INVALID_INPUT(parseDomainXml(devicesXml(bridgeWith("<target dev='tap 1'/>"))),
                       "/domain/devices/interface[1]/target: interface name 'tap 1' cannot contain whitespace");
}

// ---- target -----------------------------------------------------------------------

TEST(InterfaceParse, InactiveFormIgnoresGeneratedTargetNamesAsLibvirtDoes) {
  for (const char* name : {"vnet0", "vnet12", "macvtap3", "macvlan0"}) {
    std::string xml = bridgeWith(std::string("<target dev='") + name + "'/>");
    EXPECT_FALSE(onlyInterface(xml).target) << name;
    EXPECT_EQ(onlyInterface(xml, XmlForm::Live).target->str(), name);
  }
}

TEST(InterfaceFormat, DropsAGeneratedTargetNameTheDefinitionCarriedAsLibvirtDoes) {
  // Otherwise the live XML written at prepare would name vnet3 (perhaps
  // another guest's tap) as this guest's device when read back.
  auto domain = parseDomainXml(devicesXml("    <interface type='bridge'>\n"
                                          "      <source bridge='br0'/>\n"
                                          "      <target dev='vnet3'/>\n"
                                          "    </interface>\n"
                                          "    <interface type='bridge'>\n"
                                          "      <source bridge='br0'/>\n"
                                          "      <target dev='vnet4' managed='yes'/>\n"
                                          "    </interface>\n"));
  std::string live = formatDomainXml(domain, XmlForm::Live);
  EXPECT_EQ(live, devicesXml("    <interface type='bridge'>\n"
                             "      <source bridge='br0'/>\n"
                             "      <target/>\n"
                             "    </interface>\n"
                             "    <interface type='bridge'>\n"
                             "      <source bridge='br0'/>\n"
                             "      <target managed='yes'/>\n"
                             "    </interface>\n"));
  EXPECT_FALSE(parseDomainXml(live, XmlForm::Live).interfaces[0].target);
}

TEST(InterfaceFormat, RepeatedElementsStayAFixedPoint) {
  // The parser reads the first <target>, <mac> and <alias>; writing must not
  // make another one the first (found by the fuzzer).
  std::string xml = devicesXml(
      "    <interface type='bridge'><source bridge='br0'/><target dev='vnet0'/><mac address='52:54:00:00:00:09'/>"
      "<target dev='macvtap4'/><target dev='tap1'/><alias name='a'/><alias name='b'/></interface>\n");
  auto domain = parseDomainXml(xml);
  std::string once = formatDomainXml(domain, XmlForm::Inactive);
  Domain again = parseDomainXml(once);
  testing::expectSameModel(again, domain);
  EXPECT_EQ(formatDomainXml(again, XmlForm::Inactive), once);
}

TEST(InterfaceParse, KeepsAGeneratedLookingNameOfAnExistingTap) {
  Interface interface =
      onlyInterface("<interface type='ethernet'><target dev='vnet5' managed='no'/></interface>");
  EXPECT_EQ(interface.target->str(), "vnet5");
}

TEST(InterfaceParse, RejectsUnmanagedTargetOnOtherTypes) {
  EXPECT_INVALID_INPUT(parseDomainXml(devicesXml(bridgeWith("<target dev='tap7' managed='no'/>"))),
                       "/domain/devices/interface[1]/target: unmanaged target dev is not supported on "
                       "interfaces of type 'bridge'");
}

TEST(InterfaceParse, RejectsUnmanagedTargetWithoutName) {
  EXPECT_INVALID_INPUT(parseDomainXml(devicesXml("<interface type='ethernet'><target managed='no'/></interface>")),
                       "/domain/devices/interface[1]/target: target dev must be supplied when managed='no'");
}

TEST(InterfaceParse, RejectsUnknownManagedValue) {
  EXPECT_INVALID_INPUT(
      parseDomainXml(devicesXml("<interface type='ethernet'><target dev='t' managed='maybe'/></interface>")),
      "Invalid value for attribute 'managed' in element 'target': 'maybe'");
}

// ---- model, driver, queues ----------------------------------------------------------

TEST(InterfaceParse, RejectsModelWithCharactersLibvirtRefuses) {
  EXPECT_INVALID_INPUT(parseDomainXml(devicesXml(bridgeWith("<model type='virtio,x=1'/>"))),
                       "/domain/devices/interface[1]/model: Model name contains invalid characters");
}

TEST(InterfaceParse, ReadsDriverForVirtioModelsInAnyCaseAndWithoutModel) {
  EXPECT_EQ(onlyInterface(bridgeWith("<model type='VirtIO'/><driver name='qemu'/>")).driver,
            NetDriverName::Qemu);
  EXPECT_EQ(onlyInterface(bridgeWith("<model type='virtio-non-transitional'/><driver queues='2'/>")).queues, 2u);
  EXPECT_EQ(onlyInterface(bridgeWith("<driver name='vhost' queues='8'/>")).queues, 8u);
}

TEST(InterfaceParse, IgnoresDriverOfOtherModelsAsLibvirtDoes) {
  Interface interface = onlyInterface(bridgeWith("<model type='e1000'/><driver name='other' queues='0'/>"));
  EXPECT_FALSE(interface.driver);
  EXPECT_FALSE(interface.queues);
}

TEST(InterfaceParse, RejectsUnknownDriverName) {
  EXPECT_INVALID_INPUT(parseDomainXml(devicesXml(bridgeWith("<driver name='kernel'/>"))),
                       "/domain/devices/interface[1]/driver: Invalid value for attribute 'name' in element "
                       "'driver': 'kernel'");
}

TEST(InterfaceParse, AcceptsOneToTwoHundredFiftySixQueues) {
  EXPECT_EQ(onlyInterface(bridgeWith("<driver queues='1'/>")).queues, 1u);
  EXPECT_EQ(onlyInterface(bridgeWith("<driver queues='256'/>")).queues, 256u);
}

TEST(InterfaceParse, RejectsZeroQueues) {
  EXPECT_INVALID_INPUT(parseDomainXml(devicesXml(bridgeWith("<driver queues='0'/>"))),
                       "/domain/devices/interface[1]/driver: Invalid value for attribute 'queues' in element "
                       "'driver': Zero is not permitted");
}

TEST(InterfaceParse, RejectsMoreQueuesThanATapHas) {
  for (const char* count : {"257", "4096", "99999999999999999999999"}) {
    EXPECT_INVALID_INPUT(parseDomainXml(devicesXml(bridgeWith(std::string("<driver queues='") + count + "'/>"))),
                         "is more than the 256 queues a tap device can have");
  }
}

TEST(InterfaceParse, RejectsQueuesThatAreNotANumber) {
  for (const char* count : {"four", "-1", "+4", " 4", "0x10", ""}) {
    SCOPED_TRACE(count);
    EXPECT_INVALID_INPUT(parseDomainXml(devicesXml(bridgeWith(std::string("<driver queues='") + count + "'/>"))),
                         "Invalid value for attribute 'queues' in element 'driver': '" + std::string(count) +
                             "'. Expected non-negative integer value");
  }
}

// ---- alias ------------------------------------------------------------------------

TEST(InterfaceParse, RejectsAliasThatIsNotAQemuIdentifier) {
  for (const char* alias : {"net0,fd=3", "0net", "net 0", "", "-x", "net=0", "ua-x.y"}) {
    SCOPED_TRACE(alias);
    EXPECT_INVALID_INPUT(parseDomainXml(devicesXml(bridgeWith(std::string("<alias name='") + alias + "'/>"))),
                         "is not a QEMU identifier");
  }
}

TEST(InterfaceParse, RejectsDuplicateAliasInLibvirtsWords) {
  EXPECT_INVALID_INPUT(
      parseDomainXml(devicesXml(bridgeWith("<alias name='net0'/>") + bridgeWith("<alias name='net0'/>"))),
      "/domain/devices/interface[2]/alias: non unique alias detected: net0");
}

TEST(InterfaceParse, ReadsAliasesOfInactiveDefinitionsToo) {
  // libvirt keeps only user aliases (ua-*) of an inactive definition; seclabel
  // keeps every one: exec/run name interfaces by alias ({netdev:ALIAS}).
  EXPECT_EQ(onlyInterface(bridgeWith("<alias name='lan'/>")).alias, "lan");
  EXPECT_EQ(onlyInterface(bridgeWith("<alias name='ua-lan_2'/>")).alias, "ua-lan_2");
}

TEST(InterfaceParse, FindsAnInterfaceByAlias) {
  auto domain = parseDomainXml(devicesXml(bridgeWith("<alias name='lan'/>") + bridgeWith("<alias name='wan'/>")));
  EXPECT_EQ(domain.interfaceByAlias("wan"), &domain.interfaces[1]);
  EXPECT_EQ(domain.interfaceByAlias("dmz"), nullptr);
}

TEST(InterfaceParse, ManyInterfacesParseInLinearTime) {
  // A quadratic alias check would take minutes here.
  std::string interfaces;
  for (int i = 0; i < 50000; ++i) interfaces += bridgeWith("<alias name='n" + std::to_string(i) + "'/>");
  EXPECT_EQ(parseDomainXml(devicesXml(interfaces)).interfaces.size(), 50000u);
}

// ---- writing back -----------------------------------------------------------------

const std::string kLibvirtInterface =
    "    <interface type='bridge'>\n"
    "      <source bridge='br0'/>\n"
    "      <!-- a comment -->\n"
    "      <vlan><tag id='42'/></vlan>\n"
    "      <bandwidth><inbound average='1000'/></bandwidth>\n"
    "      <model type='virtio'/>\n"
    "      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>\n"
    "    </interface>\n";

TEST(InterfaceFormat, KeepsAnInterfaceWithoutDefaultsByteForByte) {
  std::string xml = devicesXml(kLibvirtInterface);
  EXPECT_EQ(formatDomainXml(parseDomainXml(xml), XmlForm::Inactive), xml);
}

TEST(InterfaceFormat, WritesFilledInValuesInLibvirtsPlacesWithTheDocumentsIndentation) {
  auto domain = parseDomainXml(devicesXml(kLibvirtInterface));
  domain.interfaces[0].mac = MacAddress::parse("52:54:00:12:34:56");
  domain.interfaces[0].alias = "net0";
  domain.interfaces[0].target = InterfaceName::parse("vnet3");
  EXPECT_EQ(formatDomainXml(domain, XmlForm::Live),
            devicesXml("    <interface type='bridge'>\n"
                       "      <mac address='52:54:00:12:34:56'/>\n"
                       "      <source bridge='br0'/>\n"
                       "      <target dev='vnet3'/>\n"
                       "      <!-- a comment -->\n"
                       "      <vlan><tag id='42'/></vlan>\n"
                       "      <bandwidth><inbound average='1000'/></bandwidth>\n"
                       "      <model type='virtio'/>\n"
                       "      <alias name='net0'/>\n"
                       "      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>\n"
                       "    </interface>\n"));
}

TEST(InterfaceFormat, UpdatesExistingElementsInPlace) {
  auto domain = parseDomainXml(devicesXml(
      "    <interface type='bridge'><mac type='generated' check='no'/><source bridge='br0'/>"
      "<target dev='tap1'/><alias name='net0'/></interface>\n"),
      XmlForm::Live);
  domain.interfaces[0].mac = MacAddress::parse("52:54:00:00:00:07");
  domain.interfaces[0].target = InterfaceName::parse("tap2");
  EXPECT_EQ(formatDomainXml(domain, XmlForm::Live),
            devicesXml("    <interface type='bridge'><mac address='52:54:00:00:00:07' type='generated' "
                       "check='no'/><source bridge='br0'/><target dev='tap2'/><alias name='net0'/>"
                       "</interface>\n"));
}

TEST(InterfaceFormat, WritesTheMacInLibvirtsCanonicalSpelling) {
  auto domain = parseDomainXml(devicesXml(bridgeWith("<mac address='52:54:0:AB:CD:E'/>")));
  EXPECT_THAT(formatDomainXml(domain, XmlForm::Inactive),
              ::testing::HasSubstr("<mac address='52:54:00:ab:cd:0e'/>"));
}

TEST(InterfaceFormat, OneLineDocumentStaysOnOneLine) {
  std::string xml =
      "<domain type='kvm'><name>g</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid><devices>"
      "<interface type='ethernet'/></devices></domain>\n";
  auto domain = parseDomainXml(xml);
  domain.interfaces[0].alias = "net0";
  domain.interfaces[0].mac = MacAddress::parse("52:54:00:00:00:01");
  EXPECT_EQ(formatDomainXml(domain, XmlForm::Live),
            "<domain type='kvm'><name>g</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid><devices>"
            "<interface type='ethernet'><mac address='52:54:00:00:00:01'/><alias name='net0'/></interface>"
            "</devices></domain>\n");
}

TEST(InterfaceFormat, IndentsTheChildrenOfAnEmptyInterface) {
  auto domain = parseDomainXml(devicesXml("    <interface type='ethernet'/>\n"));
  domain.interfaces[0].alias = "net0";
  EXPECT_EQ(formatDomainXml(domain, XmlForm::Live),
            devicesXml("    <interface type='ethernet'>\n      <alias name='net0'/>\n    </interface>\n"));
}

TEST(InterfaceFormat, WritesAnInterfaceTheDocumentLacksWhole) {
  Domain domain;
  domain.type = "kvm";
  domain.name = "built";
  domain.uuid = "c7a5fdbd-edaf-9455-926a-d65c16db1809";
  Interface direct;
  direct.type = InterfaceType::Direct;
  direct.sourceDev = InterfaceName::parse("eth0");
  direct.macvtapMode = MacvtapMode::Passthrough;
  direct.mac = MacAddress::parse("52:54:00:00:00:02");
  direct.model = "virtio";
  direct.driver = NetDriverName::Vhost;
  direct.queues = 2;
  direct.alias = "net0";
  Interface tap;
  tap.type = InterfaceType::Ethernet;
  tap.target = InterfaceName::parse("tap9");
  tap.tapManagement = TapManagement::Unmanaged;
  domain.interfaces = {direct, tap};
  std::string formatted = formatDomainXml(domain, XmlForm::Live);
  EXPECT_THAT(formatted, ::testing::HasSubstr(
                             "  <devices>\n"
                             "    <interface type='direct'>\n"
                             "      <mac address='52:54:00:00:00:02'/>\n"
                             "      <source dev='eth0' mode='passthrough'/>\n"
                             "      <model type='virtio'/>\n"
                             "      <driver name='vhost' queues='2'/>\n"
                             "      <alias name='net0'/>\n"
                             "    </interface>\n"
                             "    <interface type='ethernet'>\n"
                             "      <target dev='tap9' managed='no'/>\n"
                             "    </interface>\n"
                             "  </devices>\n"));
  Domain again = parseDomainXml(formatted, XmlForm::Live);
  EXPECT_EQ(again.interfaces, domain.interfaces);
  EXPECT_EQ(formatDomainXml(again, XmlForm::Live), formatted);
}

// ---- requireSupportedInterfaces ----------------------------------------------------

TEST(RequireSupportedInterfaces, AcceptsBridgeDirectAndEthernet) {
  auto domain = parseDomainXml(devicesXml(bridgeWith("") +
                                          "<interface type='direct'><source dev='eth0'/></interface>"
                                          "<interface type='ethernet'/>"));
  EXPECT_NO_THROW(requireSupportedInterfaces(domain));
}

TEST(RequireSupportedInterfaces, RefusesOtherTypesNamingTheInterface) {
  auto domain = parseDomainXml(
      devicesXml(bridgeWith("") + "<interface type='network'><source network='default'/></interface>"));
  EXPECT_INVALID_INPUT(requireSupportedInterfaces(domain),
                       "/domain/devices/interface[2]: interface type 'network' is not supported (seclabel "
                       "prepares bridge, direct and ethernet interfaces)");
  for (const char* type : {"user", "vhostuser", "hostdev", "vdpa", "null"}) {
    auto other = parseDomainXml(devicesXml(std::string("<interface type='") + type + "'/>"));
    EXPECT_INVALID_INPUT(requireSupportedInterfaces(other), std::string("interface type '") + type + "'");
  }
}

TEST(RequireSupportedInterfaces, AcceptsADomainWithoutInterfaces) {
  EXPECT_NO_THROW(requireSupportedInterfaces(parseDomainXml(devicesXml(""))));
}

// ---- MAC generation -------------------------------------------------------------------

// Hands out the queued bytes in order, so a test decides every draw.
class ScriptedRandom {
 public:
  explicit ScriptedRandom(std::deque<std::uint8_t> bytes) : bytes_(std::move(bytes)) {}
  RandomBytes source() {
    return [this](std::span<std::uint8_t> out) {
      for (auto& byte : out) {
        if (bytes_.empty()) throw Error::invalidInput("test random source exhausted");
        byte = bytes_.front();
        bytes_.pop_front();
      }
      ++draws_;
    };
  }
  int draws() const { return draws_; }

 private:
  std::deque<std::uint8_t> bytes_;
  int draws_ = 0;
};

const MacAddressTaken kNothingTaken = [](const MacAddress&) { return false; };

TEST(GenerateMacAddress, UsesQemusPrefixAndTheRandomBytes) {
  ScriptedRandom random({0xff, 0x01, 0xab});
  MacAddress mac = generateMacAddress(random.source(), kNothingTaken);
  EXPECT_EQ(mac.format(), "52:54:00:ff:01:ab");
  EXPECT_EQ(random.draws(), 1);
}

TEST(GenerateMacAddress, SkipsAddressesThatAreTaken) {
  ScriptedRandom random({0, 0, 1, 0, 0, 2, 0, 0, 3});
  std::set<std::string> taken = {"52:54:00:00:00:01", "52:54:00:00:00:02"};
  MacAddress mac = generateMacAddress(random.source(),
                                      [&](const MacAddress& m) { return taken.count(m.format()) > 0; });
  EXPECT_EQ(mac.format(), "52:54:00:00:00:03");
  EXPECT_EQ(random.draws(), 3);
}

TEST(GenerateMacAddress, GivesUpAfterBoundedTriesWithAConflict) {
  std::deque<std::uint8_t> bytes(3 * 5, 0x42);
  ScriptedRandom random(bytes);
  try {
    generateMacAddress(random.source(), [](const MacAddress&) { return true; }, 5);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::NoIdentity);
    EXPECT_THAT(e.what(), ::testing::HasSubstr("no free MAC address in 52:54:00:00:00:00-52:54:00:ff:ff:ff: "
                                               "5 random addresses were all in use"));
  }
  EXPECT_EQ(random.draws(), 5);
}

TEST(GenerateMacAddress, DefaultTriesAreBounded) {
  int asked = 0;
  std::deque<std::uint8_t> bytes(3 * kMacAddressTries, 0);
  ScriptedRandom random(bytes);
  EXPECT_THROW(generateMacAddress(random.source(), [&](const MacAddress&) { return ++asked, true; }), Error);
  EXPECT_EQ(asked, kMacAddressTries);
}

TEST(SystemRandomBytes, FillsTheBuffer) {
  std::array<std::uint8_t, 32> first{};
  std::array<std::uint8_t, 32> second{};
  RandomBytes random = systemRandomBytes();
  random(first);
  random(second);
  EXPECT_NE(first, second);  // equal with probability 2^-256
}

// ---- assignInterfaceDefaults ---------------------------------------------------------

TEST(AssignInterfaceDefaults, NamesInterfacesNetNInDocumentOrder) {
  auto domain = parseDomainXml(devicesXml(bridgeWith("") + bridgeWith("") + bridgeWith("")));
  ScriptedRandom random({0, 0, 1, 0, 0, 2, 0, 0, 3});
  assignInterfaceDefaults(domain, random.source(), kNothingTaken);
  EXPECT_EQ(domain.interfaces[0].alias, "net0");
  EXPECT_EQ(domain.interfaces[1].alias, "net1");
  EXPECT_EQ(domain.interfaces[2].alias, "net2");
}

TEST(AssignInterfaceDefaults, KeepsGivenAliasesAndSkipsTheirNames) {
  auto domain = parseDomainXml(
      devicesXml(bridgeWith("") + bridgeWith("<alias name='net0'/>") + bridgeWith("") + bridgeWith("<alias name='lan'/>")));
  ScriptedRandom random(std::deque<std::uint8_t>{0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0, 4});
  assignInterfaceDefaults(domain, random.source(), kNothingTaken);
  EXPECT_EQ(domain.interfaces[0].alias, "net1");
  EXPECT_EQ(domain.interfaces[1].alias, "net0");
  EXPECT_EQ(domain.interfaces[2].alias, "net2");
  EXPECT_EQ(domain.interfaces[3].alias, "lan");
}

TEST(AssignInterfaceDefaults, GeneratesMissingMacsAndKeepsGivenOnes) {
  auto domain = parseDomainXml(devicesXml(bridgeWith("<mac address='52:54:00:aa:bb:cc'/>") + bridgeWith("")));
  ScriptedRandom random({0x10, 0x20, 0x30});
  assignInterfaceDefaults(domain, random.source(), kNothingTaken);
  EXPECT_EQ(domain.interfaces[0].mac->format(), "52:54:00:aa:bb:cc");
  EXPECT_EQ(domain.interfaces[1].mac->format(), "52:54:00:10:20:30");
}

TEST(AssignInterfaceDefaults, NeverGivesTwoInterfacesOfTheDomainOneAddress) {
  auto domain = parseDomainXml(devicesXml(bridgeWith("<mac address='52:54:00:00:00:01'/>") + bridgeWith("") +
                                          bridgeWith("")));
  // The source repeats itself: the first draw collides with the given
  // address, the third with the one just generated.
  ScriptedRandom random({0, 0, 1, 0, 0, 2, 0, 0, 2, 0, 0, 3});
  assignInterfaceDefaults(domain, random.source(), kNothingTaken);
  EXPECT_EQ(domain.interfaces[1].mac->format(), "52:54:00:00:00:02");
  EXPECT_EQ(domain.interfaces[2].mac->format(), "52:54:00:00:00:03");
}

TEST(AssignInterfaceDefaults, AsksTheStoreAboutEveryCandidate) {
  auto domain = parseDomainXml(devicesXml(bridgeWith("")));
  ScriptedRandom random({0, 0, 1, 0, 0, 2});
  std::vector<std::string> asked;
  assignInterfaceDefaults(domain, random.source(), [&](const MacAddress& mac) {
    asked.push_back(mac.format());
    return mac.format() == "52:54:00:00:00:01";  // another guest has it
  });
  EXPECT_EQ(asked, (std::vector<std::string>{"52:54:00:00:00:01", "52:54:00:00:00:02"}));
  EXPECT_EQ(domain.interfaces[0].mac->format(), "52:54:00:00:00:02");
}

TEST(AssignInterfaceDefaults, LiveXmlCarriesTheDefaultsAndReadsBackTheSame) {
  auto domain = parseDomainXml(devicesXml(kLibvirtInterface + "    <interface type='ethernet'/>\n"));
  ScriptedRandom random({1, 2, 3, 4, 5, 6});
  assignInterfaceDefaults(domain, random.source(), kNothingTaken);
  std::string live = formatDomainXml(domain, XmlForm::Live);
  EXPECT_THAT(live, ::testing::HasSubstr("<mac address='52:54:00:01:02:03'/>"));
  EXPECT_THAT(live, ::testing::HasSubstr("<alias name='net1'/>"));
  Domain again = parseDomainXml(live, XmlForm::Live);
  testing::expectSameModel(again, domain);
  EXPECT_EQ(formatDomainXml(again, XmlForm::Live), live);
}

}  // namespace
}  // namespace seclabel
